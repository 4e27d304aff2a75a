// Passkey forms, without dependencies and without inline script (CSP script-src 'self').
// A <form data-webauthn="register|authenticate"> carries the server's options as JSON in a hidden
// <input name="options">; on submit (or a click on [data-webauthn-start]) this asks the browser for
// a passkey, writes the credential as JSON (base64url) into <input name="response"> and submits.
// Refusals are shown in the [data-webauthn-error] element.
(function () {
  'use strict';

  function toBuffer(b64url) {
    var b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    var binary = atob(b64 + '==='.slice((b64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    if (!buffer) return undefined;
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { id: toBuffer(d.id), type: d.type || 'public-key', transports: d.transports };
    });
  }

  function creationOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.user = Object.assign({}, json.user, { id: toBuffer(json.user.id) });
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }

  function call(fn) {
    try { return fn(); } catch (e) { return undefined; }
  }

  function serialise(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = (r.getTransports && call(function () { return r.getTransports(); })) || [];
      var alg = r.getPublicKeyAlgorithm && call(function () { return r.getPublicKeyAlgorithm(); });
      if (typeof alg === 'number') response.publicKeyAlgorithm = alg;
      var key = r.getPublicKey && call(function () { return r.getPublicKey(); });
      if (key) response.publicKey = toB64url(key);
      var data = r.getAuthenticatorData && call(function () { return r.getAuthenticatorData(); });
      if (data) response.authenticatorData = toB64url(data);
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle && r.userHandle.byteLength) response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: response,
    });
  }

  function explain(error, mode) {
    var name = error && error.name;
    if (name === 'NotAllowedError' || name === 'AbortError') return 'The passkey request was cancelled or timed out. Try again.';
    if (name === 'InvalidStateError') {
      return mode === 'register' ? 'This device already holds a passkey for your account.' : 'This passkey cannot be used here.';
    }
    if (name === 'SecurityError') return 'Passkeys cannot be used on this address.';
    if (name === 'NotSupportedError') return 'This device has no passkey that Caregate supports.';
    return 'Your browser could not use a passkey' + (error && error.message ? ': ' + error.message : '.');
  }

  function showError(form, message) {
    var box = form.querySelector('[data-webauthn-error]') || document.querySelector('[data-webauthn-error]');
    if (!box) { window.alert(message); return; }
    box.textContent = message;
    box.hidden = false;
    if (!box.getAttribute('role')) box.setAttribute('role', 'alert');
  }

  function setBusy(form, busy) {
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
    var buttons = form.querySelectorAll('button');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
  }

  function start(form) {
    if (form.getAttribute('aria-busy') === 'true') return;
    var mode = form.getAttribute('data-webauthn');
    var optionsInput = form.querySelector('input[name="options"]');
    var responseInput = form.querySelector('input[name="response"]');
    if (!window.PublicKeyCredential || !navigator.credentials) {
      showError(form, 'This browser does not support passkeys. Use another sign-in method or a current browser.');
      return;
    }
    var options;
    try {
      var json = JSON.parse(optionsInput.value);
      options = mode === 'register' ? { publicKey: creationOptions(json) } : { publicKey: requestOptions(json) };
    } catch (e) {
      showError(form, 'This page is missing its passkey details. Reload it and try again.');
      return;
    }
    setBusy(form, true);
    var request = mode === 'register' ? navigator.credentials.create(options) : navigator.credentials.get(options);
    request.then(function (credential) {
      if (!credential) throw Object.assign(new Error('no passkey was returned'), { name: 'NotAllowedError' });
      responseInput.value = serialise(credential);
      form.submit();
    }).catch(function (error) {
      setBusy(form, false);
      showError(form, explain(error, mode));
    });
  }

  function init() {
    var forms = document.querySelectorAll('form[data-webauthn]');
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        start(form);
      });
      var buttons = form.querySelectorAll('[data-webauthn-start]');
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].addEventListener('click', function (event) {
          event.preventDefault();
          start(form);
        });
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
