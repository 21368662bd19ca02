/* Kit App Starter: what the pages do with JavaScript on. Everything works
   without it: the menus are <details>, the forms are plain forms. */
(() => {
  "use strict";
  const MENUS = "details.usermenu, details.switcher";
  const menus = () => [...document.querySelectorAll(MENUS)];

  // One menu open at a time: opening one closes the others. (toggle does not
  // bubble; a listener that captures still hears it.)
  document.addEventListener("toggle", (event) => {
    const opened = event.target;
    if (!(opened instanceof HTMLDetailsElement) || !opened.open) return;
    if (!opened.matches(MENUS)) return;
    for (const menu of menus()) if (menu !== opened) menu.open = false;
  }, true);

  // A click or focus outside an open menu closes it.
  const closeOutside = (event) => {
    for (const menu of menus()) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    }
  };
  document.addEventListener("click", closeOutside);
  document.addEventListener("focusin", closeOutside);

  // Escape closes the open menu and hands focus back to its button.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of menus()) {
      if (!menu.open) continue;
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // A form posted once is not posted again by a second tap while the next
  // page loads (the server is safe either way; this saves the round trip).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented) return;
    if (!(form instanceof HTMLFormElement) || form.method !== "post") return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "yes";
  });
  // Back to a page kept in memory: its forms may be sent again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    for (const form of document.querySelectorAll("form[data-sent]")) delete form.dataset.sent;
  });
})();
