/*
 * uniqodo-mock: what the visit tag and the redemption tag share. Not a script of its own: the
 * mock writes it into each tag at the tag's @uqd-common marker, inside the tag's own function,
 * so it sees the tag's config, apiBase, LOG_PREFIX, REQUEST_TIMEOUT_MS and
 * API_ERROR_MESSAGE. Plain ES2017.
 */
  function findApiBase(script, marker) {
    try {
      if (script && script.src) {
        const url = new URL(script.src, window.location.href);
        const at = url.pathname.lastIndexOf(marker);
        return url.origin + (at > 0 ? url.pathname.slice(0, at) : "");
      }
    } catch (error) {
      // fall back to the origin the mock wrote into the config
    }
    return String(config.origin || "");
  }

  // ---------------------------------------------------------------- logging
  function inform(message) {
    try { console.info(LOG_PREFIX + " " + message); } catch (error) { /* no console */ }
  }

  function warn(message) {
    try { console.warn(LOG_PREFIX + " " + message); } catch (error) { /* no console */ }
  }

  function fail(message) {
    try { console.error(LOG_PREFIX + " " + message); } catch (error) { /* no console */ }
  }

  // The tag's own failures (not the API's business errors) go to the error log too.
  function report(message) {
    fail(message);
    try {
      const url = apiBase + "/reporting/" + encodeURIComponent(String(config.merchantId)) +
        "/log?" + new URLSearchParams({message: String(message).slice(0, 500), type: "error"});
      fetch(url, {credentials: "omit", keepalive: true}).catch(function () { /* ignored */ });
    } catch (error) {
      // nothing more can be done
    }
  }

  // ---------------------------------------------------------------- cookies
  function readCookie(name) {
    try {
      const prefix = name + "=";
      const parts = document.cookie ? document.cookie.split("; ") : [];
      for (const part of parts) {
        if (part.indexOf(prefix) === 0) {
          return decodeURIComponent(part.slice(prefix.length)) || null;
        }
      }
    } catch (error) {
      // cookies unavailable (sandboxed frame) or undecodable
    }
    return null;
  }

  function writeCookie(name, value, seconds) {
    try {
      const secure = window.location.protocol === "https:" ? "; Secure" : "";
      document.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + seconds +
        "; Path=/; SameSite=Lax" + secure;
    } catch (error) {
      warn("could not write the cookie " + name);
    }
  }

  function deleteCookie(name) {
    writeCookie(name, "", 0);
  }

  // ---------------------------------------------------------------- the page's UNIQODO object
  function readField(page, name) {
    try {
      return page[name];
    } catch (error) {
      warn("UNIQODO." + name + " could not be read");
      return undefined;
    }
  }

  function expose(page, name, value) {
    try {
      page[name] = value;
    } catch (error) {
      warn("could not set UNIQODO." + name + " (is UNIQODO frozen?)");
    }
  }

  function announce(type, detail) {
    try {
      document.dispatchEvent(new CustomEvent(type, {detail: detail}));
    } catch (error) {
      warn("could not dispatch " + type);
    }
  }

  // ---------------------------------------------------------------- the API
  async function callApi(operation, path, query) {
    const url = apiBase + path + "?" + new URLSearchParams(query);
    let response;
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : 0;
    try {
      response = await fetch(url, {credentials: "omit", signal: controller ? controller.signal : undefined});
    } catch (error) {
      report(operation + ": the call to the API failed (" + (error && error.name) + ")");
      return {error: tagError(operation, "network", "The Uniqodo API could not be reached.", 0)};
    } finally {
      clearTimeout(timer);
    }
    let body;
    try {
      body = await response.json();
    } catch (error) {
      report(operation + ": the API answered HTTP " + response.status + " without JSON");
      return {error: tagError(operation, "bad_answer", "The Uniqodo API's answer could not be read.", response.status)};
    }
    if (!body || typeof body !== "object") {
      report(operation + ": the API answered HTTP " + response.status + " with no envelope");
      return {error: tagError(operation, "bad_answer", "The Uniqodo API's answer could not be read.", response.status)};
    }
    const errors = Array.isArray(body.errors) ? body.errors : [];
    if (errors.length || body.result !== "success") {
      return {error: apiError(operation, errors, response.status)};
    }
    return {data: body.data || {}};
  }

  function apiError(operation, errors, status) {
    const first = errors[0] && typeof errors[0] === "object" ? errors[0] : {};
    return {
      type: "error",
      operation: operation,
      reason: "api",
      status: status,
      code: typeof first.code === "number" ? first.code : null,
      message: typeof first.message === "string" ? first.message : API_ERROR_MESSAGE,
      promotionSpecificError: typeof first.promotion_specific_error === "string" ? first.promotion_specific_error : null,
      reference: typeof first.reference === "string" ? first.reference : null,
      errors: errors
    };
  }

  function tagError(operation, reason, message, status) {
    return {
      type: "error",
      operation: operation,
      reason: reason,
      status: status,
      code: null,
      message: message,
      promotionSpecificError: null,
      reference: null,
      errors: []
    };
  }

