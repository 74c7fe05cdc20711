// When the CDN copy of htmx did not load (offline classroom, blocked CDN), load the local
// copy fetched at set-up time. document.write keeps it synchronous, before reader.js runs.
(function () {
  if (window.htmx) return;
  var src = document.currentScript && document.currentScript.getAttribute("data-src");
  if (src) document.write('<script src="' + src + '"><\/script>');
})();
