// Mounts Clerk's sign-in component on our own sign-in page. ClerkJS is loaded
// from the instance's Frontend API by a <script> tag carrying the publishable
// key; the CSP allows that origin and nothing inline, hence this file.
(function () {
  "use strict";
  function mount() {
    var el = document.getElementById("clerk-sign-in");
    if (!el || !window.Clerk) { return; }
    window.Clerk.load().then(function () {
      if (window.Clerk.user) {
        window.location.assign(el.dataset.afterSignIn || "/");
        return;
      }
      window.Clerk.mountSignIn(el, {
        forceRedirectUrl: el.dataset.afterSignIn || "/",
        signUpForceRedirectUrl: el.dataset.afterSignIn || "/"
      });
    });
  }
  window.addEventListener("load", mount);
  // Signing out of Scratchpad also signs out of Clerk.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.getAttribute("action") !== "/signout" || !window.Clerk || !window.Clerk.user) { return; }
    ev.preventDefault();
    window.Clerk.signOut().then(function () { form.submit(); });
  });
})();
