// The visual segment builder: edits the segment filter (the JSON the segments room compiles)
// as AND/OR groups of conditions, writes it into the form's hidden `filter` input and fires
// `filter-changed` on the form, which HTMX turns into a debounced live count and preview.
// Plain browser JavaScript, no build step (vendored static only).
(function () {
  "use strict";
  const root = document.getElementById("segment-builder");
  if (!root) return;
  const output = document.querySelector(root.dataset.output);
  const form = output.form;
  const catalog = JSON.parse(document.getElementById("segment-catalog").textContent);
  const L = catalog.labels;

  const FIELD_OPS = {
    text: ["eq", "ne", "contains", "is_set", "is_not_set"],
    choice: ["eq", "ne", "contains", "is_set", "is_not_set"],
    number: ["eq", "ne", "gt", "lt", "between", "is_set", "is_not_set"],
    date: ["eq", "ne", "gt", "lt", "between", "is_set", "is_not_set"],
    boolean: ["eq", "ne", "is_set", "is_not_set"],
  };
  const TIME_OPS = ["within_days", "not_within_days", "before", "after"];
  const COUNT_OPS = ["gte", "lte", "eq", "ne", "gt", "lt", "between"];
  const ORDER_TIME_OPS = TIME_OPS.concat(["is_set", "is_not_set"]);

  const DEFAULTS = {
    tags: () => ({ type: "tags", has: "any", tags: [] }),
    field: () => {
      const f = catalog.fields[0];
      return { type: "field", key: f ? f.key : "", op: f ? FIELD_OPS[f.type][0] : "eq", value: null };
    },
    channel: () => ({ type: "channel", kinds: [catalog.channels[0]] }),
    messageable: () => ({ type: "messageable", channel: catalog.messageable[0] }),
    last_interaction: () => ({ type: "last_interaction", op: "within_days", value: 30 }),
    has_phone: () => ({ type: "has_phone", value: true }),
    source: () => ({ type: "source", key: "ref", op: "eq", value: "" }),
    orders: () => ({ type: "orders", metric: "count", op: "gte", value: 1 }),
    created: () => ({ type: "created", op: "within_days", value: 30 }),
    consent: () => ({ type: "consent", purpose: catalog.purposes[0], status: "granted" }),
  };

  let state;
  try {
    state = output.value ? JSON.parse(output.value) : null;
  } catch (e) {
    state = null;
  }
  if (!state) state = { type: "group", op: "and", rules: [] };
  if (state.type !== "group") state = { type: "group", op: "and", rules: [state] };

  // ---- small DOM helpers ----------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "on") {
        for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
      } else if (key === "text") {
        node.textContent = value;
      } else if (value !== undefined && value !== null && value !== false) {
        node.setAttribute(key, value === true ? "" : value);
      }
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  function select(options, current, onChange, label) {
    const node = el("select", { "aria-label": label || "" });
    for (const [value, text] of options) {
      const option = el("option", { value: value, text: text });
      if (String(value) === String(current)) option.selected = true;
      node.append(option);
    }
    node.addEventListener("change", () => onChange(node.value));
    return node;
  }

  function input(type, value, onInput, extra) {
    const node = el("input", Object.assign({ type: type }, extra || {}));
    node.value = value === null || value === undefined ? "" : value;
    node.addEventListener("input", () => onInput(node.value));
    return node;
  }

  const ops = (names) => names.map((n) => [n, L.ops[n]]);
  const intOrNull = (text) => (text.trim() === "" ? null : Number.parseInt(text, 10));
  const numberOrNull = (text) => (text.trim() === "" ? null : Number(text.replace(",", ".")));

  // ---- what the server gets -------------------------------------------------------------

  // Empty groups are left out (a group needs a rule); an empty root means "everyone".
  function clean(node) {
    if (node.type !== "group") return node;
    const rules = node.rules.map(clean).filter((r) => r !== null);
    return rules.length ? { type: "group", op: node.op, rules: rules } : null;
  }

  function changed(structure) {
    if (structure) render(); // first: rendering fills defaults (a choice, yes/no)
    const cleaned = clean(state);
    output.value = cleaned ? JSON.stringify(cleaned) : "";
    form.dispatchEvent(new Event("filter-changed", { bubbles: true }));
  }

  // ---- one condition --------------------------------------------------------------------

  function valueInput(node, kind, key) {
    // kind: int | number | date | text | bool | choice:<list>
    key = key || "value";
    const set = (v) => {
      node[key] = v;
      changed(false);
    };
    if (kind === "int") return input("number", node[key], (t) => set(intOrNull(t)), { step: "1", min: "0", class: "short" });
    if (kind === "number") return input("text", node[key], (t) => set(numberOrNull(t)), { inputmode: "decimal", class: "short" });
    if (kind === "date") return input("date", node[key], (t) => set(t || null));
    if (kind === "bool") {
      if (node[key] === null || node[key] === undefined) node[key] = true;
      return select([["true", L.yes], ["false", L.no]], String(node[key]), (v) => set(v === "true"));
    }
    if (kind.startsWith("choice:")) {
      const choices = JSON.parse(kind.slice(7));
      if (node[key] === null || node[key] === undefined) node[key] = choices[0] || "";
      return select(choices.map((c) => [c, c]), node[key], set);
    }
    return input("text", node[key], (t) => set(t), { maxlength: "500" });
  }

  function twoValues(node, kind) {
    if (!Array.isArray(node.values)) node.values = [null, null];
    const one = (i) =>
      input(kind === "date" ? "date" : "text", node.values[i], (t) => {
        node.values[i] = kind === "date" ? t || null : kind === "int" ? intOrNull(t) : numberOrNull(t);
        changed(false);
      }, { class: "short", inputmode: kind === "date" ? undefined : "decimal" });
    return el("span", {}, [one(0), el("span", { text: " " + L.and + " " }), one(1)]);
  }

  // Switching op: keep value / values in the shape the op takes.
  function setOp(node, op, valueKind) {
    node.op = op;
    if (op === "between") {
      delete node.value;
      node.values = [null, null];
    } else {
      delete node.values;
      if (op === "is_set" || op === "is_not_set") delete node.value;
      else if (op === "within_days" || op === "not_within_days") node.value = typeof node.value === "number" ? node.value : 30;
      else if (op === "before" || op === "after") node.value = typeof node.value === "string" ? node.value : null;
      else if (!("value" in node) || node.value === null || typeof node.value !== valueKind) node.value = null;
    }
    changed(true);
  }

  function timeParts(node, opsList) {
    const parts = [select(ops(opsList), node.op, (op) => setOp(node, op))];
    if (node.op === "within_days" || node.op === "not_within_days") {
      parts.push(valueInput(node, "int"), el("span", { text: " " + L.days }));
    } else if (node.op === "before" || node.op === "after") {
      parts.push(valueInput(node, "date"));
    }
    return parts;
  }

  function tagsEditor(node) {
    const chips = el("span", { class: "chips" });
    for (const name of node.tags) {
      chips.append(
        el("span", { class: "chip" }, [
          name + " ",
          el("button", {
            type: "button", class: "link", "aria-label": L.remove + " " + name, text: "×",
            on: { click: () => { node.tags = node.tags.filter((t) => t !== name); changed(true); } },
          }),
        ])
      );
    }
    const listId = "segment-tags-list";
    const box = el("input", { type: "text", list: listId, placeholder: L.tag_input, class: "tag-input", "aria-label": L.tag_input });
    const add = () => {
      const name = box.value.trim();
      if (name && !node.tags.includes(name)) {
        node.tags.push(name);
        changed(true);
        const again = root.querySelector(`[data-path="${box.closest("[data-path]").dataset.path}"] .tag-input`);
        if (again) again.focus();
      }
    };
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === ",") {
        e.preventDefault();
        add();
      }
    });
    box.addEventListener("change", add);
    return el("span", {}, [
      select(Object.entries(L.has), node.has, (v) => { node.has = v; changed(false); }),
      chips,
      box,
    ]);
  }

  function fieldParts(node) {
    if (!catalog.fields.length) return [el("span", { class: "hint", text: L.no_fields })];
    const spec = catalog.fields.find((f) => f.key === node.key) || catalog.fields[0];
    node.key = spec.key;
    const allowed = FIELD_OPS[spec.type];
    if (!allowed.includes(node.op)) node.op = allowed[0];
    const parts = [
      select(catalog.fields.map((f) => [f.key, f.label || f.key]), spec.key, (key) => {
        node.key = key;
        const next = catalog.fields.find((f) => f.key === key);
        node.op = FIELD_OPS[next.type][0];
        delete node.values;
        node.value = null;
        changed(true);
      }),
      select(ops(allowed), node.op, (op) => setOp(node, op)),
    ];
    const kind =
      spec.type === "number" ? "number"
      : spec.type === "date" ? "date"
      : spec.type === "boolean" ? "bool"
      : spec.type === "choice" && node.op !== "contains" ? "choice:" + JSON.stringify(spec.choices)
      : "text";
    if (node.op === "between") parts.push(twoValues(node, kind));
    else if (node.op !== "is_set" && node.op !== "is_not_set") parts.push(valueInput(node, kind));
    return parts;
  }

  function ordersParts(node) {
    const parts = [
      select(Object.entries(L.metrics), node.metric, (metric) => {
        node.metric = metric;
        const list = metric === "last_order_at" ? ORDER_TIME_OPS : COUNT_OPS;
        setOp(node, list.includes(node.op) ? node.op : list[0], "number");
      }),
    ];
    if (node.metric === "last_order_at") return parts.concat(timeParts(node, ORDER_TIME_OPS));
    parts.push(select(ops(COUNT_OPS), node.op, (op) => setOp(node, op, "number")));
    if (node.op === "between") parts.push(twoValues(node, "int"));
    else parts.push(valueInput(node, "int"));
    return parts;
  }

  function conditionParts(node) {
    switch (node.type) {
      case "tags":
        return [tagsEditor(node)];
      case "field":
        return fieldParts(node);
      case "channel": {
        const boxes = catalog.channels.map((kind) => {
          const box = el("input", { type: "checkbox", value: kind });
          box.checked = node.kinds.includes(kind);
          box.addEventListener("change", () => {
            node.kinds = catalog.channels.filter((k) =>
              k === kind ? box.checked : node.kinds.includes(k)
            );
            changed(false);
          });
          return el("label", { class: "inline-check" }, [box, " " + kind]);
        });
        return boxes;
      }
      case "messageable":
        return [select(catalog.messageable.map((k) => [k, k]), node.channel, (v) => { node.channel = v; changed(false); })];
      case "last_interaction":
      case "created":
        return timeParts(node, TIME_OPS);
      case "has_phone":
        return [select(Object.entries(L.phone), String(node.value), (v) => { node.value = v === "true"; changed(false); })];
      case "source": {
        const parts = [
          input("text", node.key, (t) => { node.key = t.trim(); changed(false); }, { class: "short", "aria-label": L.source_key, title: L.source_key }),
          select(ops(["eq", "ne", "contains", "is_set", "is_not_set"]), node.op, (op) => setOp(node, op, "string")),
        ];
        if (node.op !== "is_set" && node.op !== "is_not_set") parts.push(valueInput(node, "text"));
        return parts;
      }
      case "orders":
        return ordersParts(node);
      case "consent":
        return [
          select(catalog.purposes.map((p) => [p, p]), node.purpose, (v) => { node.purpose = v; changed(false); }),
          select(Object.entries(L.status), node.status, (v) => { node.status = v; changed(false); }),
        ];
      default:
        return [el("code", { text: JSON.stringify(node) })];
    }
  }

  // ---- groups ---------------------------------------------------------------------------

  function renderNode(node, path, parent, index) {
    const remove = parent
      ? el("button", {
          type: "button", class: "link remove", text: "× " + L.remove,
          on: { click: () => { parent.rules.splice(index, 1); changed(true); } },
        })
      : null;
    if (node.type === "group") {
      const list = el("ol", { class: "rules" });
      node.rules.forEach((rule, i) => list.append(el("li", {}, [renderNode(rule, `${path}.rules[${i}]`, node, i)])));
      const adder = select(
        // No custom field defined: the field condition has nothing to offer.
        [["", L.add]].concat(Object.entries(L.types).filter(([t]) => t !== "field" || catalog.fields.length)),
        "",
        (type) => {
          if (!type) return;
          node.rules.push(DEFAULTS[type]());
          changed(true);
        },
        L.add
      );
      adder.classList.add("add-condition");
      const addGroup = el("button", {
        type: "button", class: "add-group", text: L.add_group,
        on: { click: () => { node.rules.push({ type: "group", op: node.op === "and" ? "or" : "and", rules: [] }); changed(true); } },
      });
      return el("div", { class: "group", "data-path": path }, [
        el("div", { class: "group-head" }, [
          select([["and", L.all], ["or", L.any]], node.op, (op) => { node.op = op; changed(false); }, L.all),
          remove,
        ]),
        node.rules.length ? list : el("p", { class: "hint", text: parent ? "" : L.empty }),
        el("div", { class: "group-add" }, [adder, addGroup]),
      ]);
    }
    return el("div", { class: "condition", "data-path": path, "data-type": node.type }, [
      el("strong", { text: L.types[node.type] || node.type }),
      ...conditionParts(node),
      remove,
    ]);
  }

  function render() {
    const datalist = el("datalist", { id: "segment-tags-list" }, catalog.tags.map((t) => el("option", { value: t })));
    root.replaceChildren(renderNode(state, "filter", null, 0), datalist);
  }

  // The server names problems by path (filter.rules[1].value): mark those conditions.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id !== "segment-preview") return;
    for (const old of root.querySelectorAll(".invalid")) old.classList.remove("invalid");
    const box = event.target.querySelector(".filter-errors");
    if (!box) return;
    for (const path of JSON.parse(box.dataset.paths || "[]")) {
      let best = null;
      for (const node of root.querySelectorAll("[data-path]")) {
        const own = node.dataset.path;
        if ((path === own || path.startsWith(own + ".") || path.startsWith(own + "[")) && (!best || own.length > best.dataset.path.length)) best = node;
      }
      if (best) best.classList.add("invalid");
    }
  });

  render();
  const cleaned = clean(state);
  output.value = cleaned ? JSON.stringify(cleaned) : "";
})();
