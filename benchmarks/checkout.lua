-- The checkout flow of a partner's load test, for wrk: each connection runs one customer's
-- checkout after another, every customer new, every step using what the step before answered:
--
--   1. GET /code/KEY/OFFER?uid=CUSTOMER           a code for the new customer
--   2. GET /validate/KEY/CODE/MERCHANT?email=...  that code at the basket
--   3. GET /redeem/KEY/CODE/MERCHANT?...&valKey=  redeemed with the val_key step 2 answered
--   4. GET /publisher/KEY/query/user-redemption/PROMOTION?userId=CUSTOMER
--
-- Run with one connection per thread (wrk -tN -cN): each thread's Lua state is then one
-- connection's state. At the end it prints "FLOW failures=F flows=N". A failure is an answer
-- other than HTTP 200 with "result":"success" for steps 1-3, and for step 4 a query answer
-- without the redemption just made (its code is used up then: error 201 beside the data, as in
-- the docs' Code Query example).

local key = os.getenv("FLOW_KEY") or "64a287ae534cf1bd58f45f3e23de9d433caec669"
local offer = os.getenv("FLOW_OFFER") or "4883"
local merchant = os.getenv("FLOW_MERCHANT") or "1"
local promotion = os.getenv("FLOW_PROMOTION") or "0821f4190897965c33eaca7954db5f23"
local run = os.getenv("FLOW_RUN") or tostring(os.time())

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

-- Per thread (globals of the thread's own Lua state, read back in done()).
failures = 0
flows = 0
local step = 1
local number = 0
local customer, code, val_key

function request()
  if step == 1 then
    number = number + 1
    customer = string.format("c%s-%d-%d@bench.example", run, tid, number)
    return wrk.format("GET", "/code/" .. key .. "/" .. offer .. "?uid=" .. customer)
  elseif step == 2 then
    return wrk.format(
      "GET", "/validate/" .. key .. "/" .. code .. "/" .. merchant .. "?email=" .. customer
    )
  elseif step == 3 then
    return wrk.format(
      "GET",
      "/redeem/" .. key .. "/" .. code .. "/" .. merchant
        .. "?orderId=o" .. run .. "-" .. tid .. "-" .. number
        .. "&orderValue=42.50&currency=GBP&valKey=" .. val_key
    )
  end
  return wrk.format(
    "GET", "/publisher/" .. key .. "/query/user-redemption/" .. promotion .. "?userId=" .. customer
  )
end

function response(status, headers, body)
  local expected = step == 4 and '"total":1' or '"result":"success"'
  if status ~= 200 or not string.find(body, expected, 1, true) then
    failures = failures + 1
  end
  if step == 1 then
    code = string.match(body, '"code":"([^"]+)"') or "NOCODE"
    step = 2
  elseif step == 2 then
    val_key = string.match(body, '"val_key":"([^"]+)"') or ""
    step = 3
  elseif step == 3 then
    step = 4
  else
    flows = flows + 1
    step = 1
  end
end

function done(summary, latency, requests)
  local failed, finished = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    finished = finished + thread:get("flows")
  end
  io.write(string.format("FLOW failures=%d flows=%d\n", failed, finished))
end
