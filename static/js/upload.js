// Chunked, resumable upload of a table file, with drag and drop and a progress bar.
//
// Progressive enhancement of the plain upload form (which still works without JS):
// the file goes in pieces of `chunk_bytes` (8 MB) to /uploads/<id>/?offset=N. After a
// dropped connection, or a reload and choosing the same file again, the browser asks
// the server how many bytes it has and sends only the rest.
(function () {
  "use strict";

  var form = document.querySelector("form[data-chunked-upload]");
  if (!form || !window.fetch || !window.XMLHttpRequest || !Blob.prototype.slice) return;

  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-drop-zone]");
  var panel = form.querySelector("[data-upload-progress]");
  var bar = panel.querySelector("progress");
  var text = panel.querySelector("[data-upload-text]");
  var errorBox = form.querySelector("[data-upload-error]");
  var resumeButton = form.querySelector("[data-upload-resume]");
  var submit = form.querySelector("button[type=submit]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var beginUrl = form.getAttribute("data-begin-url");
  var MAX_RETRIES = 6;
  var state = null;

  function storageKey(file) {
    return "promise-upload:" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  function humanBytes(n) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function humanSeconds(s) {
    if (!isFinite(s)) return "…";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function showProgress(sent) {
    var total = state.file.size;
    var percent = total ? (100 * sent) / total : 100;
    bar.value = percent;
    var elapsed = (performance.now() - state.startedAt) / 1000;
    var speed = elapsed > 0.2 ? (sent - state.startOffset) / elapsed : 0;
    var left = speed > 0 ? (total - sent) / speed : Infinity;
    text.textContent =
      percent.toFixed(0) + "% · " + humanBytes(sent) + " of " + humanBytes(total) +
      (speed > 0 ? " · " + humanBytes(speed) + "/s · " + humanSeconds(left) + " left" : "");
  }

  function request(method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      if (typeof body === "string") xhr.setRequestHeader("Content-Type", "application/json");
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = {}; }
        resolve({ status: xhr.status, data: data });
      };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.send(body);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // An upload the server still has for this very file, or a new one.
  function open(file) {
    var known = localStorage.getItem(storageKey(file));
    var ask = known ? request("GET", known) : Promise.resolve({ status: 404 });
    return ask.then(function (answer) {
      if (answer.status === 200 && answer.data.size === file.size) {
        return { url: known, offset: answer.data.offset, chunk: 8 * 1024 * 1024 };
      }
      var meta = JSON.stringify({ name: file.name, size: file.size });
      return request("POST", beginUrl, meta).then(function (created) {
        if (created.status !== 201) throw new Refused(created.data.error || "The upload was refused.");
        localStorage.setItem(storageKey(file), created.data.url);
        return { url: created.data.url, offset: 0, chunk: created.data.chunk_bytes };
      });
    });
  }

  function Refused(message) { this.message = message; }

  function sendFrom(offset) {
    var file = state.file;
    if (offset >= file.size) return finish();
    var piece = file.slice(offset, Math.min(offset + state.chunk, file.size));
    return request("PUT", state.url + "?offset=" + offset, piece, function (loaded) {
      showProgress(offset + loaded);
    }).then(function (answer) {
      state.retries = 0;
      if (answer.status === 200) return sendFrom(answer.data.offset);
      if (answer.status === 409 && typeof answer.data.offset === "number") {
        return sendFrom(answer.data.offset);  // the server had more (or less): go on from there
      }
      throw new Refused(answer.data.error || "The server refused a piece of the file.");
    }, function () {
      return retry();
    });
  }

  // The connection dropped: wait, ask the server what it has, go on from there.
  function retry() {
    state.retries += 1;
    if (state.retries > MAX_RETRIES) {
      text.textContent = "Upload paused: the connection was lost. " + text.textContent;
      resumeButton.hidden = false;
      return Promise.resolve();
    }
    text.textContent = "Connection lost; trying again…";
    return sleep(Math.min(16000, 500 * Math.pow(2, state.retries))).then(function () {
      return request("GET", state.url).then(
        function (answer) {
          if (answer.status !== 200) throw new Refused(answer.data.error || "The upload was lost.");
          return sendFrom(answer.data.offset);
        },
        function () { return retry(); }
      );
    });
  }

  function finish() {
    bar.value = 100;
    text.textContent = "100% · all " + humanBytes(state.file.size) + " sent; opening the dataset…";
    return request("POST", state.url + "finish/", "{}").then(function (answer) {
      if (answer.status !== 201) throw new Refused(answer.data.error || "The file could not be stored.");
      localStorage.removeItem(storageKey(state.file));
      window.location.assign(answer.data.url);
    });
  }

  function start(file) {
    showError("");
    resumeButton.hidden = true;
    panel.hidden = false;
    submit.disabled = true;
    bar.value = 0;
    text.textContent = "Starting " + file.name + "…";
    state = { file: file, retries: 0 };
    open(file)
      .then(function (upload) {
        state.url = upload.url;
        state.chunk = upload.chunk;
        state.startOffset = upload.offset;
        state.startedAt = performance.now();
        if (upload.offset) text.textContent = "Resuming at " + humanBytes(upload.offset) + "…";
        showProgress(upload.offset);
        return sendFrom(upload.offset);
      })
      .catch(function (error) {
        panel.hidden = true;
        showError(error instanceof Refused ? error.message
          : "The upload stopped: check your connection and choose Upload again; it resumes where it stopped.");
      })
      .then(function () { submit.disabled = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.files.length) {
      showError("Choose a file first, or drop one on the box.");
      input.focus();
      return;
    }
    start(input.files[0]);
  });

  resumeButton.addEventListener("click", function () {
    if (input.files.length) start(input.files[0]);
  });

  if (zone) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      input.files = files;
      start(files[0]);
    });
  }
})();
