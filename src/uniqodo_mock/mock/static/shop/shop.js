// The demo shop's own page script: what a merchant's site does with what the Uniqodo tags
// expose (UNIQODO.triggerCode, UNIQODO.validation, UNIQODO.lastError, the uniqodo:* events).
(function () {
  "use strict";
  const SUBTOTAL = 145.0;
  const CURRENCY = "GBP";
  // The distributor key of the default fixtures that may issue codes of offer 4883.
  const CODE_API_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669";
  const page = document.body.dataset.page;
  const uniqodo = window.UNIQODO || {};

  function byId(id) {
    return document.getElementById(id);
  }

  function say(id, text, kind) {
    const element = byId(id);
    element.textContent = text;   // never innerHTML: codes and messages are data
    element.className = kind || "";
    element.hidden = false;
  }

  function describeError(error) {
    const parts = [error.message];
    if (error.promotionSpecificError) {
      parts.push(error.promotionSpecificError);
    }
    if (error.code !== null && error.code !== undefined) {
      parts.push("(error " + error.code + (error.reference ? ", reference " + error.reference : "") + ")");
    }
    return parts.join(" ");
  }

  function discountOf(validation) {
    const discount = validation && validation.discount;
    if (!discount || typeof discount.discount_amount !== "number") {
      return 0;
    }
    if (discount.discount_type === "percent") {
      return Math.round(SUBTOTAL * discount.discount_amount) / 100;
    }
    return Math.min(SUBTOTAL, discount.discount_amount);
  }

  // ---------------------------------------------------------------- landing
  function landing() {
    function show() {
      if (uniqodo.lastError) {
        say("code-status", "Code " + (uniqodo.code || "") + ": " + describeError(uniqodo.lastError), "error");
      } else if (uniqodo.triggerCode) {
        say("code-status", "Code " + uniqodo.code + " is valid: the shop applies " + uniqodo.triggerCode + " in your basket.", "ok");
      } else if (uniqodo.code) {
        say("code-status", "Code " + uniqodo.code + " is stored.");
      }
    }
    document.addEventListener("uniqodo:validated", show);
    document.addEventListener("uniqodo:error", show);
    show();
    byId("fresh-code").addEventListener("click", async function () {
      try {
        const answer = await (await fetch("/code/" + CODE_API_KEY + "/4883")).json();
        if (answer.result !== "success") {
          throw new Error(answer.errors && answer.errors.length ? answer.errors[0].message : "no code");
        }
        window.location.href = "./?uqd=" + encodeURIComponent(answer.data.code);
      } catch (error) {
        say("fresh-error", "No fresh code: " + error.message, "error");
      }
    });
  }

  // ---------------------------------------------------------------- basket
  function basket() {
    function show() {
      const validation = uniqodo.validation;
      const discount = uniqodo.triggerCode ? discountOf(validation) : 0;
      byId("trigger-code").textContent = uniqodo.triggerCode || "none";
      byId("discount").textContent = discount.toFixed(2);
      byId("discount-label").textContent = uniqodo.triggerCode ? "(" + uniqodo.triggerCode + ")" : "";
      byId("total").textContent = (SUBTOTAL - discount).toFixed(2);
      if (uniqodo.lastError) {
        say("validation-result", "Code " + (uniqodo.code || "") + " not applied: " + describeError(uniqodo.lastError), "error");
      } else if (validation) {
        say("validation-result", "Code " + validation.code + " validated: " + uniqodo.triggerCode + " applied.", "ok");
      } else if (uniqodo.code) {
        say("validation-result", "Code " + uniqodo.code + " stored.");
      } else {
        say("validation-result", "No code entered.");
      }
    }
    document.addEventListener("uniqodo:validated", show);
    document.addEventListener("uniqodo:error", show);
    show();
    // At the basket, the shop validates the stored code again with the basket's data.
    if (uniqodo.code && typeof uniqodo.validate === "function") {
      uniqodo.validate({basketTotal: SUBTOTAL.toFixed(2)});
    }
    byId("code-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (typeof uniqodo.setCode === "function") {
        uniqodo.setCode(byId("code-input").value);
      }
    });
    byId("remove-code").addEventListener("click", function () {
      if (typeof uniqodo.clearCode === "function") {
        uniqodo.clearCode().then(show);
      }
    });
    byId("order-form").addEventListener("submit", function (event) {
      event.preventDefault();
      const discount = uniqodo.triggerCode ? discountOf(uniqodo.validation) : 0;
      const order = new URLSearchParams({
        orderId: "DEMO-" + Date.now().toString(36).toUpperCase(),
        orderValue: (SUBTOTAL - discount).toFixed(2),
        currency: CURRENCY,
        email: byId("email").value
      });
      if (uniqodo.triggerCode) {
        order.set("triggerCode", uniqodo.triggerCode);
      }
      window.location.href = "confirmation.html?" + order;
    });
  }

  // ---------------------------------------------------------------- confirmation
  async function confirmation() {
    byId("order-id").textContent = uniqodo.orderId || "(none)";
    byId("order-value").textContent = uniqodo.orderValue || "(none)";
    byId("order-currency").textContent = uniqodo.currency || "";
    fetch("settings.json").then(function (response) { return response.json(); }).then(function (settings) {
      if (settings.receiverPage) {
        byId("receiver-link").href = settings.receiverPage + "?param=" + encodeURIComponent("orderId:" + uniqodo.orderId);
        byId("receiver").hidden = false;
      }
    }).catch(function () { /* no receiver wired */ });
    document.addEventListener("uniqodo:conversion", function (event) {
      say("conversion-result", "Affiliate conversion reported: token " + event.detail.awcToken + ".", "ok");
    });
    const outcome = uniqodo.redemptionDone ? await uniqodo.redemptionDone : null;
    if (!outcome) {
      say("redemption-result", "The redemption tag did not run.", "error");
    } else if (outcome.type === "redeemed") {
      say("redemption-result", "Code " + outcome.code + " redeemed on order " + outcome.orderId + " (redemption key " + outcome.redemptionKey + ").", "ok");
    } else if (outcome.type === "skipped") {
      say("redemption-result", "No Uniqodo code was used on this order (" + outcome.reason + ").");
    } else {
      say("redemption-result", "Not redeemed: " + describeError(outcome), "error");
    }
  }

  if (page === "landing") {
    landing();
  } else if (page === "basket") {
    basket();
  } else if (page === "confirmation") {
    confirmation();
  }
})();
