/*
 * uniqodo-mock: the merchant's visit tag, served at /uqd/{uniqodo_id}.js (in production,
 * https://www.uqd.io/{UNIQODO_ID}.js, on every page of the shop).
 *
 * The mock's own implementation of the documented tag interface (JavaScript integration
 * guide I77ERf5B2w; the cookies and parameters the deployed tag uses): not Uniqodo's code.
 * What it reads, stores and calls: docs/merchant-tags.md.
 *
 * It picks up the shopper's code (the `uqd` URL parameter, or UNIQODO.setCode(code)), keeps
 * it in the cookie _uqd_c, validates it against the API (sending the previous val_key as
 * `pn`), keeps the answer in _uqd_v_v, _uqd_v_trg and _uqd_v_pn, and tells the page:
 * UNIQODO.triggerCode and the `uniqodo:validated` event, or UNIQODO.lastError and the
 * `uniqodo:error` event. Nothing it does ever throws into the page.
 *
 * Plain ES2017, no dependencies, no build step.
 */
(function () {
  "use strict";

  // The merchant's settings, written here by the mock when it serves the file.
  const config = /*@uqd-config*/ {"tag": "visit", "tagId": "", "merchantId": 0, "key": "", "origin": ""} /*@end-config*/;

  const LOG_PREFIX = "[uniqodo visit tag]";
  const CODE_COOKIE = "_uqd_c";
  const VALIDATED_COOKIE = "_uqd_v_v";
  const TRIGGER_COOKIE = "_uqd_v_trg";
  const VAL_KEY_COOKIE = "_uqd_v_pn";
  const AWCB_COOKIE = "_uqd_awcb";
  const VALIDATION_SECONDS = 3600;          // _uqd_v_v, _uqd_v_trg, _uqd_v_pn
  const CODE_SECONDS = 30 * 24 * 3600;      // _uqd_c, _uqd_awcb
  const MAX_CODE = 64;
  const MAX_VALUE = 1000;
  const MAX_AWCB = 2000;
  const REQUEST_TIMEOUT_MS = 10000;
  const API_ERROR_MESSAGE = "The code could not be used.";
  const LOCALE = /^[a-z]{2}(_[A-Z]{2})?$/;
  const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

  // Read now: document.currentScript is only set while this file first runs.
  const apiBase = findApiBase(document.currentScript, "/uqd/");

  /*@uqd-common*/

  // ---------------------------------------------------------------- the page's UNIQODO object
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
      page = {};
      try { window.UNIQODO = page; } catch (error) { /* read-only global */ }
    } else if (typeof page !== "object") {
      warn("UNIQODO is a " + typeof page + ", not an object: the tag uses an object of its own");
      page = {};
      try { window.UNIQODO = page; } catch (error) { /* read-only global */ }
    }
    return page;
  }

  // ---------------------------------------------------------------- values
  function cleanCode(value) {
    if (typeof value !== "string" && typeof value !== "number") {
      return null;
    }
    const code = String(value).trim();
    return code && code.length <= MAX_CODE ? code : null;
  }

  // A query value from the page: text or a finite number, not too long; else skipped.
  function queryValue(name, value) {
    if (typeof value === "number" && isFinite(value)) {
      return String(value);
    }
    if (typeof value === "boolean") {
      return value ? "true" : "false";
    }
    if (typeof value === "string" && value.length <= MAX_VALUE) {
      return value;
    }
    if (value !== undefined && value !== null) {
      warn("skipped the validation parameter " + name + ": not text or a number, or too long");
    }
    return null;
  }

  // ---------------------------------------------------------------- validation
  function showStored(page, keepPageTriggerCode) {
    expose(page, "code", readCookie(CODE_COOKIE));
    expose(page, "validatedCode", readCookie(VALIDATED_COOKIE));
    expose(page, "valKey", readCookie(VAL_KEY_COOKIE));
    const pageTrigger = readField(page, "triggerCode");
    if (!(keepPageTriggerCode && typeof pageTrigger === "string" && pageTrigger)) {
      expose(page, "triggerCode", readCookie(TRIGGER_COOKIE));
    }
  }

  async function validate(page, code, extra) {
    const query = {isValidation: "true", pos: "web"};
    const previous = readCookie(VAL_KEY_COOKIE);
    if (previous) {
      query.pn = previous;
    }
    const locale = readField(page, "locale");
    if (typeof locale === "string" && LOCALE.test(locale)) {
      query.locale = locale;
    }
    const email = queryValue("email", readField(page, "email"));
    if (email) {
      query.email = email;
    }
    if (extra && typeof extra === "object") {
      for (const name of Object.keys(extra)) {
        if (!PARAM_NAME.test(name)) {
          warn("skipped the validation parameter " + JSON.stringify(name.slice(0, 64)) + ": not a parameter name");
          continue;
        }
        const value = queryValue(name, readField(extra, name));
        if (value !== null) {
          query[name] = value;
        }
      }
    }
    const path = "/validate/" + encodeURIComponent(config.key) + "/" + encodeURIComponent(code) +
      "/" + encodeURIComponent(String(config.merchantId));
    const answer = await callApi("validate", path, query);
    if (answer.error) {
      deleteCookie(VALIDATED_COOKIE);
      deleteCookie(TRIGGER_COOKIE);
      showStored(page, false);
      expose(page, "validation", null);
      expose(page, "lastError", answer.error);
      fail("the code " + JSON.stringify(code) + " is not valid: " + answer.error.message +
        (answer.error.promotionSpecificError ? " " + answer.error.promotionSpecificError : "") +
        (answer.error.code !== null ? " (error " + answer.error.code + ")" : ""));
      announce("uniqodo:error", answer.error);
      return answer.error;
    }
    const data = answer.data;
    const trigger = typeof data.trigger_code === "string" ? data.trigger_code :
      (typeof data.code === "string" ? data.code : "");
    const valKey = typeof data.val_key === "string" ? data.val_key : "";
    writeCookie(VALIDATED_COOKIE, code, VALIDATION_SECONDS);
    writeCookie(TRIGGER_COOKIE, trigger, VALIDATION_SECONDS);
    if (valKey) {
      writeCookie(VAL_KEY_COOKIE, valKey, VALIDATION_SECONDS);
    }
    showStored(page, false);
    const detail = {
      type: "validated",
      code: code,
      triggerCode: trigger || null,
      valKey: valKey || null,
      offerId: typeof data.offer_id === "number" ? data.offer_id : null,
      discount: data.discount && typeof data.discount === "object" ? data.discount : null,
      data: data
    };
    expose(page, "validation", detail);
    expose(page, "lastError", null);
    announce("uniqodo:validated", detail);
    return detail;
  }

  function refuse(page, reason, message) {
    const error = tagError("validate", reason, message, 0);
    fail(message);
    expose(page, "lastError", error);
    announce("uniqodo:error", error);
    return error;
  }

  function setCode(page, value, extra) {
    const code = cleanCode(value);
    if (code === null) {
      return Promise.resolve(refuse(page, "invalid_code",
        "UNIQODO.setCode needs the code as text of 1 to " + MAX_CODE + " characters"));
    }
    writeCookie(CODE_COOKIE, code, CODE_SECONDS);
    if (readCookie(VALIDATED_COOKIE) !== code) {
      deleteCookie(VALIDATED_COOKIE);
      deleteCookie(TRIGGER_COOKIE);
    }
    showStored(page, false);
    return validate(page, code, extra);
  }

  function isOrderConfirmation(page) {
    const flag = readField(page, "orderConfirmation");
    return flag === true || flag === "true";
  }

  function keepAffiliate() {
    const params = new URLSearchParams(window.location.search);
    const awcb = params.get("awcb") || params.get("awc");
    if (awcb && awcb.length <= MAX_AWCB) {
      writeCookie(AWCB_COOKIE, awcb, CODE_SECONDS);
    }
  }

  function guarded(body) {
    return function () {
      try {
        return Promise.resolve(body.apply(null, arguments)).catch(function (error) {
          report("unexpected failure: " + (error && error.message));
          return tagError("validate", "tag_failure", "The Uniqodo tag failed.", 0);
        });
      } catch (error) {
        report("unexpected failure: " + (error && error.message));
        return Promise.resolve(tagError("validate", "tag_failure", "The Uniqodo tag failed.", 0));
      }
    };
  }

  function start() {
    const page = pageObject();
    expose(page, "setCode", guarded(function (code, extra) { return setCode(pageObject(), code, extra); }));
    expose(page, "validate", guarded(function (extra) {
      const current = pageObject();
      const code = readCookie(CODE_COOKIE);
      if (!code) {
        return refuse(current, "no_code", "there is no stored code to validate");
      }
      return validate(current, code, extra);
    }));
    expose(page, "clearCode", guarded(function () {
      const current = pageObject();
      for (const name of [CODE_COOKIE, VALIDATED_COOKIE, TRIGGER_COOKIE, VAL_KEY_COOKIE]) {
        deleteCookie(name);
      }
      showStored(current, false);
      expose(current, "validation", null);
      return null;
    }));
    keepAffiliate();
    const confirmation = isOrderConfirmation(page);
    showStored(page, confirmation);
    let first = null;
    const fromUrl = new URLSearchParams(window.location.search).get("uqd");
    if (confirmation) {
      // The redemption tag's page: the stored code is redeemed there, not validated again.
    } else if (fromUrl !== null) {
      first = setCode(page, fromUrl);
    } else {
      const stored = readCookie(CODE_COOKIE);
      if (stored && readCookie(VALIDATED_COOKIE) !== stored) {
        first = validate(page, stored);   // stored, but the last validation has lapsed
      }
    }
    expose(page, "ready", guarded(function () { return first; })());
  }

  try {
    start();
  } catch (error) {
    report("unexpected failure: " + (error && error.message));
  }
})();
