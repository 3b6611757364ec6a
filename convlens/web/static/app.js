// convlens web app: colour and blend class activation maps in the browser (opacity and colormap change without
// asking the server), drag and drop a photo, pick a class from the top-k, enlarge an activation channel.
// No eval, no inline handlers: the page's Content-Security-Policy allows only this file and htmx.
"use strict";

(function () {
  let luts = null;

  function colormaps() {
    if (luts === null) {
      const block = document.getElementById("colormaps");
      luts = block ? JSON.parse(block.textContent) : {};
    }
    return luts;
  }

  function loaded(img) {
    if (img.complete && img.naturalWidth > 0) return Promise.resolve(img);
    return new Promise(function (resolve, reject) {
      img.addEventListener("load", function () { resolve(img); }, { once: true });
      img.addEventListener("error", reject, { once: true });
    });
  }

  function settings() {
    const opacity = document.getElementById("opacity");
    const cmap = document.getElementById("cmap");
    return { opacity: opacity ? parseFloat(opacity.value) : 0.4, cmap: cmap ? cmap.value : "jet" };
  }

  // The book's overlay: photo + opacity * colour(map), saturated at 255 (Uint8ClampedArray saturates).
  function blend(target) {
    const photo = document.getElementById(target.dataset.photo);
    if (!photo) return;
    const map = target._map || (target._map = Object.assign(new Image(), { src: target.dataset.map }));
    Promise.all([loaded(photo), loaded(map)]).then(function () {
      const { opacity, cmap } = settings();
      const lut = colormaps()[cmap] || colormaps().jet;
      const w = photo.naturalWidth, h = photo.naturalHeight;
      const canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(map, 0, 0, w, h);
      const grey = ctx.getImageData(0, 0, w, h).data;
      ctx.drawImage(photo, 0, 0, w, h);
      const out = ctx.getImageData(0, 0, w, h);
      const px = out.data;
      for (let i = 0; i < px.length; i += 4) {
        const v = grey[i] * 3;
        px[i] += opacity * lut[v];
        px[i + 1] += opacity * lut[v + 1];
        px[i + 2] += opacity * lut[v + 2];
      }
      ctx.putImageData(out, 0, 0);
      target.src = canvas.toDataURL("image/png");
      target.dataset.blended = cmap + "@" + opacity;
      const link = target.parentElement.querySelector(".download-overlay");
      if (link) {
        link.href = target.src;
        link.download = (target.dataset.name || "overlay") + "_" + cmap + "_overlay.png";
      }
    }).catch(function () { target.dataset.blended = "error"; });
  }

  function within(root, selector) {
    if (!root || !root.querySelectorAll) return [];
    const found = Array.from(root.querySelectorAll(selector));
    return root.matches && root.matches(selector) ? [root].concat(found) : found;
  }

  function blendAll(root) {
    within(root || document, "img.blend").forEach(blend);
  }

  function rememberPhoto(root) {
    const result = within(root, ".explain-result[data-photo-id]")[0];
    const field = document.getElementById("photo-id");
    if (result && field) {
      field.value = result.dataset.photoId;
      const input = document.getElementById("image");
      if (input) input.value = "";  // the photo is on the server now; a new choice replaces it
    }
  }

  function enlargeChannel(event) {
    const grid = event.target.closest("img.act-grid");
    if (!grid) return;
    // positions in the full grid (the picture sent may be smaller): tiles are tileW x tileH there
    const box = grid.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * parseInt(grid.dataset.gridW, 10);
    const y = ((event.clientY - box.top) / box.height) * parseInt(grid.dataset.gridH, 10);
    const col = Math.floor(x / parseInt(grid.dataset.tileW, 10));
    const row = Math.floor(y / parseInt(grid.dataset.tileH, 10));
    const channel = row * parseInt(grid.dataset.perRow, 10) + col;
    if (channel < 0 || channel >= parseInt(grid.dataset.channels, 10)) return;
    const view = document.getElementById("channel-view");
    if (!view) return;
    view.querySelector("img").src = grid.dataset.url + channel + ".png";
    view.querySelector("img").alt = "channel " + channel + " of layer " + grid.dataset.layer;
    view.querySelector("figcaption").textContent = "Layer " + grid.dataset.layer + ", channel " + channel;
    view.hidden = false;
  }

  function onClick(event) {
    const pick = event.target.closest("[data-explain-class]");
    if (pick) {
      const form = document.getElementById("explain-form");
      document.getElementById("class").value = pick.dataset.explainClass;
      form.requestSubmit();
      return;
    }
    enlargeChannel(event);
  }

  function setupDrop() {
    const zone = document.getElementById("dropzone");
    const input = document.getElementById("image");
    if (!zone || !input) return;
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      input.form.requestSubmit();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupDrop();
    document.addEventListener("click", onClick);
    const opacity = document.getElementById("opacity");
    const cmap = document.getElementById("cmap");
    if (opacity) opacity.addEventListener("input", function () {
      document.getElementById("opacity-value").textContent = parseFloat(opacity.value).toFixed(2);
      blendAll();
    });
    if (cmap) cmap.addEventListener("change", function () { blendAll(); });
    // every piece of page htmx brings in (a result, a job's outcome) is blended once it is in the page
    htmx.onLoad(function (element) {
      rememberPhoto(element);
      blendAll(element);
    });
  });
})();
