// Injected into a copy of a built page by tests/test_book_build.py. Once MathJax has typeset the
// page, it lists every code block, output, table, display equation and image inside the article
// that is wider than the article: its content scrolls sideways, or it sticks out; and every
// image's own width and displayed width. The list goes,
// as JSON, into a <pre id="layout-probe"> at the end of the body, where --dump-dom reads it.
// Elements with no box at all (display: none) are skipped; the content of a closed dropdown
// (an exercise's solution) still has its width and is checked, since a reader opens it.
window.addEventListener('load', function () {
  function probe() {
    var article = document.querySelector('article.bd-article') || document.querySelector('main');
    var box = article.getBoundingClientRect();
    var selector = 'pre, table, mjx-container[display="true"], img, div.math, .cell_output .output';
    var wide = [];
    article.querySelectorAll(selector).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return;
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      var sticksOut = r.right > box.right + 1 || r.left < box.left - 1;
      if (!scrolls && !sticksOut) return;
      var text = el.innerText || el.textContent || el.getAttribute('alt') || '';
      wide.push({
        tag: el.tagName.toLowerCase(),
        text: text.replace(/\s+/g, ' ').trim().slice(0, 90),
        scrollWidth: el.scrollWidth,
        clientWidth: el.clientWidth,
        right: Math.round(r.right),
        articleRight: Math.round(box.right)
      });
    });
    // Every figure: its PNG's own width and the width the page gives it (a narrower one is
    // shrunk, and its text with it).
    var images = [];
    article.querySelectorAll('img').forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width === 0 || !el.naturalWidth) return;
      images.push({src: (el.getAttribute('src') || '').split('/').pop(),
                   natural: el.naturalWidth, shown: Math.round(r.width * 100) / 100});
    });
    var out = document.createElement('pre');
    out.id = 'layout-probe';
    out.textContent = JSON.stringify({articleWidth: Math.round(box.width), wide: wide,
                                      images: images});
    document.body.appendChild(out);
  }
  var mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(function () { setTimeout(probe, 300); });
  } else {
    setTimeout(probe, 1000);
  }
});
