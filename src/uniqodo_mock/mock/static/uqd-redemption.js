/*
 * uniqodo-mock: the merchant's redemption tag, served at /track/{account_id}.js (in
 * production, https://track.uniqodo.com/{account_id}.js, on the order confirmation page).
 *
 * The mock's own implementation of the documented tag interface (JavaScript integration
 * guide I77ERf5B2w; the cookies and parameters the deployed tag uses): not Uniqodo's code.
 * What it reads, stores and calls: docs/merchant-tags.md.
 *
 * Before loading it the page sets the global UNIQODO object: orderConfirmation = true,
 * orderId, orderValue, currency, and optionally email or user, triggerCode, discount, awcb,
 * p1..pN. The tag then redeems the shopper's stored code (cookie _uqd_c, set by the visit tag)
 * with the order's data and the stored val_key, tells the page (the `uniqodo:redeemed` or
 * `uniqodo:error` event, UNIQODO.redemption, UNIQODO.lastError) and, when the shopper came
 * through an affiliate, reports the conversion (vcot/conversion). Without an order id, total
 * or currency it refuses, and calls nothing. Nothing it does ever throws into the page.
 *
 * Plain ES2017, no dependencies, no build step.
 */
(function () {
  "use strict";

  // The merchant's settings, written here by the mock when it serves the file.
  const config = /*@uqd-config*/ {"tag": "redemption", "tagId": "", "merchantId": 0, "key": "", "origin": ""} /*@end-config*/;

  const LOG_PREFIX = "[uniqodo redemption tag]";
  const CODE_COOKIE = "_uqd_c";
  const VALIDATED_COOKIE = "_uqd_v_v";
  const TRIGGER_COOKIE = "_uqd_v_trg";
  const VAL_KEY_COOKIE = "_uqd_v_pn";
  const AWCB_COOKIE = "_uqd_awcb";
  const AFFILIATE_COOKIE = "awc";
  const MAX_ORDER_ID = 200;
  const MAX_USER = 320;
  const MAX_CODE = 64;
  const MAX_CUSTOM = 255;
  const MAX_CUSTOM_PARAMS = 20;
  const MAX_AWCB = 2000;
  const REQUEST_TIMEOUT_MS = 10000;
  const API_ERROR_MESSAGE = "The code could not be redeemed.";
  const AMOUNT = /^-?[0-9]+(\.[0-9]+)?$/;
  const CURRENCY = /^[A-Za-z]{3}$/;
  const CUSTOM_PARAM = /^p([1-9][0-9]?)$/;
  // Shared by every copy of this tag on the page: one redemption per code and order.
  const REDEEMED = Symbol.for("uniqodo-mock.redeemed-orders");

  // Read now: document.currentScript is only set while this file first runs.
  const apiBase = findApiBase(document.currentScript, "/track/");

  /*@uqd-common*/

  // ---------------------------------------------------------------- the page's UNIQODO object
  function pageObject() {
    let page;
    try {
      // A `const UNIQODO` of the page is not a property of window.
      page = typeof UNIQODO !== "undefined" ? UNIQODO : window.UNIQODO;
    } catch (error) {
      page = window.UNIQODO;
    }
    if (page === undefined || page === null) {
      return null;
    }
    if (typeof page !== "object") {
      warn("UNIQODO is a " + typeof page + ", not an object: nothing to redeem");
      return null;
    }
    return page;
  }

  // ---------------------------------------------------------------- the order's data
  function text(value, max) {
    if (typeof value === "number" && isFinite(value)) {
      return String(value);
    }
    if (typeof value === "string") {
      const trimmed = value.trim();
      return trimmed && trimmed.length <= max ? trimmed : null;
    }
    return null;
  }

  function amount(value) {
    if (typeof value === "number") {
      return isFinite(value) && Math.abs(value) < 1e12 ? String(Math.round(value * 100) / 100) : null;
    }
    if (typeof value === "string") {
      const trimmed = value.trim();
      return trimmed.length <= 32 && AMOUNT.test(trimmed) ? trimmed : null;
    }
    return null;
  }

  function describe(value) {
    if (value === undefined || value === null || value === "") {
      return "missing";
    }
    if (typeof value === "string") {
      return "not valid (" + (value.length > 40 ? value.length + " characters" : JSON.stringify(value)) + ")";
    }
    return "not valid (a " + typeof value + ")";
  }

  // The redemption's query, or the reason there is none.
  function readOrder(page) {
    const query = {};
    const orderId = readField(page, "orderId");
    query.orderId = text(orderId, MAX_ORDER_ID);
    if (query.orderId === null) {
      return {problem: "UNIQODO.orderId is " + describe(orderId) + ": the order id is required (text of at most " + MAX_ORDER_ID + " characters)"};
    }
    const orderValue = readField(page, "orderValue");
    query.orderValue = amount(orderValue);
    if (query.orderValue === null) {
      return {problem: "UNIQODO.orderValue is " + describe(orderValue) + ": the order total is required (a number, excluding VAT)"};
    }
    const currency = readField(page, "currency");
    if (typeof currency !== "string" || !CURRENCY.test(currency.trim())) {
      return {problem: "UNIQODO.currency is " + describe(currency) + ": the currency is required (ISO 4217, e.g. GBP)"};
    }
    query.currency = currency.trim().toUpperCase();
    const discount = readField(page, "discount");
    if (discount !== undefined && discount !== null) {
      if (amount(discount) !== null) {
        query.discount = amount(discount);
      } else {
        warn("skipped UNIQODO.discount: " + describe(discount));
      }
    }
    for (const name of ["email", "user"]) {
      const value = readField(page, name);
      if (value === undefined || value === null) {
        continue;
      }
      const user = text(value, MAX_USER);
      if (user === null) {
        warn("skipped UNIQODO." + name + ": " + describe(value));
      } else if (!query.email) {
        query.email = user;      // the user the redemption is recorded under
      }
    }
    const trigger = readField(page, "triggerCode");
    const pageTrigger = typeof trigger === "string" ? text(trigger, MAX_CODE) : null;
    const storedTrigger = readCookie(TRIGGER_COOKIE);
    if (pageTrigger || storedTrigger) {
      query.triggerCode = pageTrigger || storedTrigger;
    }
    let names = [];
    try {
      names = Object.keys(page).filter(function (name) { return CUSTOM_PARAM.test(name); });
    } catch (error) {
      warn("the custom parameters p1..pN could not be listed");
    }
    names.sort(function (a, b) { return Number(a.slice(1)) - Number(b.slice(1)); });
    let sent = 0;
    for (const name of names) {
      const value = readField(page, name);
      const custom = typeof value === "boolean" ? String(value) : text(value, MAX_CUSTOM);
      if (custom === null) {
        warn("skipped UNIQODO." + name + ": " + describe(value));
      } else if (sent >= MAX_CUSTOM_PARAMS) {
        warn("skipped UNIQODO." + name + ": at most " + MAX_CUSTOM_PARAMS + " custom parameters are sent");
      } else {
        query[name] = custom;
        sent += 1;
      }
    }
    return {query: query};
  }

  function findAwcb(page) {
    const fromPage = readField(page, "awcb");
    if (typeof fromPage === "string" && fromPage.trim() && fromPage.length <= MAX_AWCB) {
      return fromPage.trim();
    }
    if (fromPage !== undefined && fromPage !== null && fromPage !== "") {
      warn("skipped UNIQODO.awcb: " + describe(fromPage));
    }
    const params = new URLSearchParams(window.location.search);
    for (const found of [params.get("awcb"), params.get("awc"), readCookie(AWCB_COOKIE), readCookie(AFFILIATE_COOKIE)]) {
      if (found && found.length <= MAX_AWCB) {
        return found;
      }
    }
    return null;
  }

  function failed(page, error) {
    expose(page, "lastError", error);
    const what = error.operation === "conversion" ? "the conversion was not reported: " : "not redeemed: ";
    fail(what + error.message + (error.promotionSpecificError ? " " + error.promotionSpecificError : "") +
      (error.code !== null ? " (error " + error.code + ")" : ""));
    announce("uniqodo:error", error);
    return error;
  }

  // ---------------------------------------------------------------- redemption
  async function redeem(page) {
    const order = readOrder(page);
    if (order.problem) {
      return failed(page, tagError("redeem", "invalid_order", order.problem, 0));
    }
    const code = readCookie(CODE_COOKIE) || readCookie(VALIDATED_COOKIE);
    if (!code) {
      inform("no Uniqodo code is stored for this shopper: nothing to redeem");
      return {type: "skipped", reason: "no_code"};
    }
    const done = window[REDEEMED] || (window[REDEEMED] = new Set());
    const once = code + "\n" + order.query.orderId;
    if (done.has(once)) {
      inform("order " + order.query.orderId + " was already redeemed on this page");
      return {type: "skipped", reason: "already_sent"};
    }
    done.add(once);
    const query = order.query;
    const valKey = readCookie(VAL_KEY_COOKIE);
    if (valKey) {
      query.valKey = valKey;
    }
    query.redemptionType = "integration";
    const path = "/redeem/" + encodeURIComponent(config.key) + "/" + encodeURIComponent(code) +
      "/" + encodeURIComponent(String(config.merchantId));
    const answer = await callApi("redeem", path, query);
    if (answer.error) {
      return failed(page, answer.error);
    }
    const data = answer.data;
    // The validation is used up; the code stays, so that a second confirmation says why.
    deleteCookie(VALIDATED_COOKIE);
    deleteCookie(TRIGGER_COOKIE);
    const detail = {
      type: "redeemed",
      code: code,
      orderId: query.orderId,
      redemptionKey: typeof data.redemption_key === "string" ? data.redemption_key : null,
      awcToken: typeof data.awc_token === "string" ? data.awc_token : null,
      data: data
    };
    expose(page, "redemption", detail);
    expose(page, "redemptionKey", detail.redemptionKey);
    expose(page, "lastError", null);
    inform("redeemed " + code + " on order " + query.orderId);
    announce("uniqodo:redeemed", detail);
    const awcb = findAwcb(page);
    if (awcb && detail.redemptionKey) {
      const conversion = await callApi("conversion", "/vcot/conversion", {
        redemptionKey: detail.redemptionKey,
        awcb: awcb,
        advertiserId: String(config.merchantId)
      });
      if (conversion.error) {
        failed(page, conversion.error);
      } else {
        detail.awcToken = typeof conversion.data.awc_token === "string" ? conversion.data.awc_token : null;
        expose(page, "awcToken", detail.awcToken);
        announce("uniqodo:conversion", {type: "conversion", redemptionKey: detail.redemptionKey, awcToken: detail.awcToken});
      }
    }
    return detail;
  }

  function start() {
    const page = pageObject();
    if (page === null) {
      inform("no UNIQODO object on this page: nothing to redeem");
      return;
    }
    const flag = readField(page, "orderConfirmation");
    if (flag !== true && flag !== "true") {
      inform("UNIQODO.orderConfirmation is not true: this is not an order confirmation page");
      return;
    }
    let outcome;
    try {
      outcome = redeem(page).catch(function (error) {
        report("unexpected failure: " + (error && error.message));
        return tagError("redeem", "tag_failure", "The Uniqodo tag failed.", 0);
      });
    } catch (error) {
      report("unexpected failure: " + (error && error.message));
      outcome = Promise.resolve(tagError("redeem", "tag_failure", "The Uniqodo tag failed.", 0));
    }
    expose(page, "redemptionDone", outcome);
  }

  try {
    start();
  } catch (error) {
    report("unexpected failure: " + (error && error.message));
  }
})();
