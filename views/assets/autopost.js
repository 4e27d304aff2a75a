// SAML HTTP-POST binding: sends the form on this page on arrival (the button stays as the fallback).
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-autopost]');
  if (form) form.submit();
});
