// Solves ALTCHA v2 proof-of-work challenges (PBKDF2/SHA-256, uint32 counter) in the
// browser with WebCrypto, for every element carrying data-altcha-challenge. The solution
// goes into the form's hidden "altcha" field; the submit button waits for it. The way
// for browsers without JavaScript ([data-altcha-fallback]) is removed. Served from
// /static because the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  function hexToBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function toHex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function derive(params, salt, nonce, counter) {
    const password = new Uint8Array(nonce.length + 4);
    password.set(nonce);
    new DataView(password.buffer).setUint32(nonce.length, counter, false);
    const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: params.cost },
      key, (params.keyLength || 32) * 8);
    return toHex(bits);
  }

  async function solve(challenge) {
    const p = challenge.parameters;
    const salt = hexToBytes(p.salt);
    const nonce = hexToBytes(p.nonce);
    const prefix = (p.keyPrefix || "00").toLowerCase();
    const started = performance.now();
    for (let counter = 0; counter <= 0xffffffff; counter++) {
      const derived = await derive(p, salt, nonce, counter);
      if (derived.startsWith(prefix)) {
        return { counter: counter, derivedKey: derived,
                 time: Math.round(performance.now() - started) };
      }
    }
    throw new Error("no solution");
  }

  document.querySelectorAll("[data-altcha-challenge]").forEach(async function (box) {
    const form = box.closest("form");
    const field = form.querySelector("input[name=altcha]");
    const status = box.querySelector("[data-altcha-status]");
    const submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    box.querySelectorAll("[data-altcha-fallback]").forEach(function (el) { el.remove(); });
    const working = box.getAttribute("data-altcha-working");
    if (status && working) status.textContent = working;
    try {
      const challenge = JSON.parse(box.getAttribute("data-altcha-challenge"));
      const solution = await solve(challenge);
      field.value = btoa(JSON.stringify({ challenge: challenge, solution: solution }));
      box.setAttribute("data-altcha-state", "solved");
      if (status) status.textContent = box.getAttribute("data-altcha-done");
    } catch (err) {
      box.setAttribute("data-altcha-state", "failed");
      if (status) status.textContent = box.getAttribute("data-altcha-failed");
    }
    if (submit) submit.disabled = false;
  });
})();
