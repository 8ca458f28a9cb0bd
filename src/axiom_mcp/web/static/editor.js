// The rich-text editor: a toolbar (bold, italic, headings, lists, link, code, quote) over an
// editable area, for each textarea marked data-rich. On submit the area's HTML goes back into the
// textarea with format=html; the server sanitizes it before storing. Without this script the
// textarea stays and takes Markdown or HTML.
(function () {
  "use strict";

  var TOOLS = [
    { name: "bold", label: "B", title: "Bold (Ctrl+B)", css: "b", state: "bold", run: function () { command("bold"); } },
    { name: "italic", label: "I", title: "Italic (Ctrl+I)", css: "i", state: "italic", run: function () { command("italic"); } },
    { name: "heading", label: "H2", title: "Heading", block: "h2", run: function () { toggleBlock("h2"); } },
    { name: "subheading", label: "H3", title: "Small heading", block: "h3", run: function () { toggleBlock("h3"); } },
    { name: "bullets", label: "• List", title: "Bulleted list", state: "insertUnorderedList", run: function () { command("insertUnorderedList"); } },
    { name: "numbers", label: "1. List", title: "Numbered list", state: "insertOrderedList", run: function () { command("insertOrderedList"); } },
    { name: "link", label: "Link", title: "Link (Ctrl+K)", run: link },
    { name: "code", label: "</>", title: "Code", css: "c", run: code },
    { name: "quote", label: "❝", title: "Quote", block: "blockquote", run: function () { toggleBlock("blockquote"); } },
    { name: "clear", label: "Tx", title: "Clear formatting", run: function () { command("removeFormat"); command("unlink"); } }
  ];

  function command(name, value) {
    document.execCommand(name, false, value === undefined ? null : value);
  }

  function currentBlock() {
    return String(document.queryCommandValue("formatBlock") || "").toLowerCase();
  }

  function toggleBlock(tag) {
    command("formatBlock", currentBlock() === tag ? "p" : tag);
  }

  function escapeHtml(text) {
    var holder = document.createElement("div");
    holder.textContent = text;
    return holder.innerHTML;
  }

  function link() {
    var selection = window.getSelection();
    var text = selection ? selection.toString() : "";
    var address = window.prompt("Link to (a web address):", "https://");
    if (address === null) { return; }
    address = address.trim();
    if (!address || address === "https://") { command("unlink"); return; }
    if (!/^(https?:|mailto:)/i.test(address)) { address = (address.indexOf("@") > 0 ? "mailto:" : "https://") + address; }
    if (text) {
      command("createLink", address);
    } else {
      command("insertHTML", '<a href="' + escapeHtml(address).replace(/"/g, "&quot;") + '">' + escapeHtml(address) + "</a>");
    }
  }

  function code() {
    var selection = window.getSelection();
    var text = selection ? selection.toString() : "";
    if (!text || text.indexOf("\n") >= 0) { toggleBlock("pre"); return; }
    command("insertHTML", "<code>" + escapeHtml(text) + "</code>&#8203;");
  }

  // The server's HTML is sanitized already; parsing it inertly (a template runs nothing and loads
  // nothing) and dropping scripts and handlers is a second guard before it becomes live.
  function inert(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    template.content.querySelectorAll("script, style, iframe, object, embed, link, meta").forEach(function (node) { node.remove(); });
    template.content.querySelectorAll("*").forEach(function (node) {
      Array.prototype.slice.call(node.attributes).forEach(function (attribute) {
        var name = attribute.name.toLowerCase();
        if (name.indexOf("on") === 0 || name === "style" || (name === "href" && !/^\s*(https?:|mailto:|#)/i.test(attribute.value))) {
          node.removeAttribute(attribute.name);
        }
      });
    });
    return template.content;
  }

  function setUp(area) {
    var form = area.form;
    var format = form.querySelector('input[data-format-of="' + area.id + '"]');
    var label = form.querySelector('label[for="' + area.id + '"]');
    var editor = document.createElement("div");
    var toolbar = document.createElement("div");
    var body = document.createElement("div");
    editor.className = "editor";
    toolbar.className = "editor-toolbar";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", "Formatting");
    toolbar.setAttribute("aria-controls", area.id + "-editor");
    body.className = "editor-body rich";
    body.id = area.id + "-editor";
    body.contentEditable = "true";
    body.setAttribute("role", "textbox");
    body.setAttribute("aria-multiline", "true");
    body.setAttribute("data-placeholder", "Write here. Select words and use the buttons above to format them.");
    if (label) {
      label.id = label.id || area.id + "-label";
      body.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", function () { body.focus(); });
    }
    if (area.getAttribute("aria-describedby")) { body.setAttribute("aria-describedby", area.getAttribute("aria-describedby")); }
    if (area.getAttribute("aria-invalid")) { body.setAttribute("aria-invalid", area.getAttribute("aria-invalid")); }
    body.appendChild(inert(area.value));

    var buttons = TOOLS.map(function (tool) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = tool.label;
      button.title = tool.title;
      button.setAttribute("aria-label", tool.title);
      button.setAttribute("data-tool", tool.name);
      if (tool.css) { button.className = tool.css; }
      if (tool.state || tool.block) { button.setAttribute("aria-pressed", "false"); }
      button.addEventListener("mousedown", function (event) { event.preventDefault(); }); // keep the selection
      button.addEventListener("click", function () {
        body.focus();
        tool.run();
        refresh();
      });
      toolbar.appendChild(button);
      return { tool: tool, button: button };
    });

    function refresh() {
      if (!body.contains(document.getSelection().anchorNode)) { return; }
      var block = currentBlock();
      buttons.forEach(function (entry) {
        var on = entry.tool.state ? document.queryCommandState(entry.tool.state) : entry.tool.block ? block === entry.tool.block : null;
        if (on !== null) { entry.button.setAttribute("aria-pressed", on ? "true" : "false"); }
      });
    }

    body.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") { event.preventDefault(); link(); }
    });
    document.addEventListener("selectionchange", refresh);
    body.addEventListener("focus", function () { command("defaultParagraphSeparator", "p"); });

    editor.appendChild(toolbar);
    editor.appendChild(body);
    area.hidden = true;
    area.parentNode.insertBefore(editor, area);
    var help = document.getElementById(area.id + "-help");
    if (help) { help.textContent = "Select words and use the buttons to format them: bold, italic, headings, lists, links and code."; }

    form.addEventListener("submit", function () {
      var empty = !body.textContent.trim() && !body.querySelector("hr, li");
      area.value = empty ? "" : body.innerHTML;
      if (format) { format.value = "html"; }
    });
  }

  document.querySelectorAll("textarea[data-rich]").forEach(setUp);
})();
