/* The course's small fixes to the theme (Jupyter Book links every .js in _static/ into every page). */
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    /* Phones and tablets: pydata-sphinx-theme binds its sidebar dialogs to the FIRST .primary-toggle
       and .secondary-toggle only (a hidden header button); sphinx-book-theme's visible buttons get
       no listener (pydata-sphinx-theme#2451, sphinx-book-theme#988). Forward their clicks. */
    ["primary-toggle", "secondary-toggle"].forEach(function (name) {
      var all = document.querySelectorAll("." + name);
      for (var i = 1; i < all.length; i++) {
        all[i].addEventListener("click", function (event) {
          event.preventDefault();
          event.stopPropagation();
          all[0].click();
        });
      }
    });

    /* The theme switch cycles light -> auto -> dark; on a light system "auto" looks like light, so
       the first click seemed to do nothing. Make every click switch to the other look. */
    document.querySelectorAll(".theme-switch-button").forEach(function (button) {
      button.addEventListener("click", function () {
        var dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
        var cycle = dark ? ["auto", "light", "dark"] : ["auto", "dark", "light"];
        var target = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
        localStorage.setItem("mode", cycle[(cycle.indexOf(target) + 2) % 3]);  // the theme then picks target
      }, true);
    });

    /* Accessible names that match what is shown (WCAG 2.5.3): fold toggles are announced as
       "Toggle hidden content" while they read "Show code cell output"; the search buttons as
       "Search" while they read "Search Ctrl+K". */
    document.querySelectorAll('summary[aria-label="Toggle hidden content"], .search-button__button[aria-label]')
      .forEach(function (el) { el.removeAttribute("aria-label"); });

    /* The theme switch shows only icons, yet its aria-label hides their text: name it by content. */
    document.querySelectorAll(".theme-switch-button[aria-label]").forEach(function (button) {
      var name = document.createElement("span");
      name.className = "visually-hidden";
      name.textContent = button.getAttribute("aria-label");
      button.appendChild(name);
      button.removeAttribute("aria-label");
    });

    /* A wide table or equation scrolls in its own container; a keyboard user must reach it. */
    function focusableScrollers() {
      document.querySelectorAll(".bd-article table, mjx-container[display='true'], .bd-article .cell_output pre")
        .forEach(function (el) {
          if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
            el.setAttribute("tabindex", "0");
            if (!el.hasAttribute("role")) el.setAttribute("role", "region");
            if (!el.hasAttribute("aria-label")) el.setAttribute("aria-label", "scrollable " + el.tagName.toLowerCase().replace("mjx-container", "equation"));
          }
        });
    }
    focusableScrollers();
    window.addEventListener("resize", focusableScrollers);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(focusableScrollers);
    else window.addEventListener("load", function () {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(focusableScrollers);
    });
  });

  /* Printing keeps the solutions and answers: open every fold, then restore it. */
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true;
      return true;
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
