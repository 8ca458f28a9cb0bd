// Attaching files on an item's page: each chosen or dropped file is posted on its own, with a
// progress bar; when all are done the page shows the new list. Without this script the form
// posts every chosen file at once and a page says how it went.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector(".dropzone");
  var list = form.querySelector(".upload-progress");
  var token = form.querySelector("input[name=csrf_token]");
  var maxSize = parseInt(form.getAttribute("data-max-size"), 10);
  var busy = false;
  form.querySelector(".drop-hint").hidden = false;

  function row(file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    var bar = document.createElement("progress");
    var status = document.createElement("span");
    name.className = "row-title";
    name.textContent = file.name;
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    status.className = "small muted upload-status";
    item.append(name, bar, status);
    list.append(item);
    return { item: item, bar: bar, status: status };
  }

  function done(shown, ok, message) {
    shown.bar.value = ok ? 100 : shown.bar.value;
    shown.status.textContent = message;
    shown.item.classList.add(ok ? "upload-ok" : "upload-failed");
  }

  function send(file, shown) {
    return new Promise(function (resolve) {
      if (file.size > maxSize) {
        done(shown, false, "Larger than " + form.getAttribute("data-max-size-text") + ": not uploaded.");
        resolve(false);
        return;
      }
      var body = new FormData();
      body.append(token.name, token.value);
      body.append("file", file, file.name);
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Axiom-Upload", "1");
      request.responseType = "json";
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { shown.bar.value = Math.round(100 * event.loaded / event.total); }
      });
      request.addEventListener("load", function () {
        var answer = request.response || {};
        var refused = answer.refused && answer.refused[0];
        if (request.status === 200 && !refused) { done(shown, true, "Uploaded."); resolve(true); return; }
        done(shown, false, refused ? refused.message : "Not uploaded (error " + request.status + ").");
        resolve(false);
      });
      request.addEventListener("error", function () { done(shown, false, "Not uploaded: the connection failed."); resolve(false); });
      request.send(body);
    });
  }

  function upload(files) {
    if (busy || !files.length) { return; }
    busy = true;
    list.hidden = false;
    list.textContent = "";
    var queue = Array.prototype.map.call(files, function (file) { return { file: file, shown: row(file) }; });
    var failed = 0;
    queue.reduce(function (previous, next) {
      return previous.then(function () {
        return send(next.file, next.shown).then(function (ok) { if (!ok) { failed += 1; } });
      });
    }, Promise.resolve()).then(function () {
      busy = false;
      input.value = "";
      if (!failed) { window.location.reload(); return; }
      var again = document.createElement("li");
      var link = document.createElement("a");
      link.href = window.location.pathname + "#files";
      link.textContent = "Show the files";
      link.addEventListener("click", function (event) { event.preventDefault(); window.location.reload(); });
      again.append(link);
      list.append(again);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    upload(input.files);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files) { upload(event.dataTransfer.files); }
  });
})();
