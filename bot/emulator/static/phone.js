// The patient's phone: talks only to the emulator's /_emulator/ control API.
// Safety: message HTML comes from the server, rendered from Telegram entities with every character of
// text escaped; everything else (names, labels, notices) goes in with textContent, never innerHTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
  const MEDIA_LABELS = {
    photo: "Photo", sticker: "Sticker", voice: "Voice note", location: "Location", contact: "Contact",
  };
  const state = {
    bot: null, seat: null, version: null, editing: null, blocked: false, seenNotice: "", items: new Map(),
    people: "", ticks: 0,
  };

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const response = await fetch(`/_emulator${path}`, init);
    const data = await response.json();
    if (!data.ok) throw new Error(data.error || `request failed (${response.status})`);
    return data.result;
  }

  function say(text, isError = false) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  async function attempt(action) {
    try {
      await action();
    } catch (error) {
      say(error.message, true);
    }
  }

  // -- who am I ------------------------------------------------------------------------------

  function parseSeat(value) {
    const [kind, first, second] = value.split(":");
    if (kind === "u") return { userId: Number(first), chatId: Number(first) };
    if (kind === "g") return { chatId: Number(first), userId: Number(second) };
    return null;
  }

  async function loadPeople(selectValue) {
    const world = await api("/state");
    const signature = JSON.stringify([world.users, world.groups, world.clock]);
    if (signature === state.people && !selectValue) return;
    state.people = signature;
    const previous = $("who").value;
    state.bot = world.bot;
    $("clock").hidden = !world.clock;
    $("chat-title").textContent = `Chat with @${world.bot.username}`;
    const picker = $("who");
    picker.replaceChildren();
    const names = new Map();
    for (const user of world.users) {
      const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
      names.set(user.id, name);
      picker.append(new Option(`${name} (patient ${user.id})`, `u:${user.id}`));
    }
    for (const group of world.groups) {
      for (const member of group.member_ids) {
        picker.append(new Option(`${names.get(member) || member} in ${group.title}`, `g:${group.id}:${member}`));
      }
    }
    if (picker.options.length === 0) {
      picker.append(new Option("No patients yet: create one below", ""));
      $("new-patient").open = true;
    }
    picker.value = selectValue || previous;
    if (picker.selectedIndex < 0) picker.selectedIndex = 0;
    if (picker.value !== previous || selectValue) choose(parseSeat(picker.value));
  }

  function choose(seat) {
    state.seat = seat;
    state.version = null;
    state.items.clear();
    $("chat").replaceChildren();
    cancelEdit();
    refresh();
  }

  // -- rendering -----------------------------------------------------------------------------

  function buttonFor(message, button) {
    if (button.url && /^https?:\/\//i.test(button.url)) {
      const link = document.createElement("a");
      link.className = "url-button";
      link.href = button.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.textContent = `${button.text} ↗`;
      return link;
    }
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = button.text;
    element.dataset.key = `${message.message_id}:${button.callback_data}`;
    if (button.callback_data === undefined) {
      element.disabled = true;
    } else {
      element.addEventListener("click", () => attempt(() => press(message.message_id, button.callback_data)));
    }
    return element;
  }

  function bubble(message) {
    const item = document.createElement("li");
    item.className = `bubble ${message.sender}`;
    item.dataset.id = String(message.message_id);
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = message.sender === "bot" ? "Bot said: " : "You said: ";
    item.append(who);
    if (message.kind !== "text") {
      const media = document.createElement("span");
      media.className = "media";
      media.textContent = `[${MEDIA_LABELS[message.kind] || message.kind}] `;
      item.append(media);
    }
    const body = document.createElement("span");
    body.innerHTML = message.html; // safe: escaped and rebuilt from entities by the emulator
    item.append(body);
    if (message.buttons.length > 0) {
      const keyboard = document.createElement("div");
      keyboard.className = "keyboard";
      keyboard.setAttribute("role", "group");
      keyboard.setAttribute("aria-label", "Buttons on this message");
      for (const row of message.buttons) {
        const line = document.createElement("div");
        line.className = "row";
        for (const button of row) line.append(buttonFor(message, button));
        keyboard.append(line);
      }
      item.append(keyboard);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    meta.textContent = [time, message.edited ? "edited" : "", message.silent ? "silent" : "",
      message.protect_content ? "protected" : ""].filter(Boolean).join(" · ");
    item.append(meta);
    if (message.sender === "user" && message.kind === "text" && state.seat.chatId === state.seat.userId) {
      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "edit secondary";
      edit.textContent = "Edit";
      edit.dataset.key = `${message.message_id}:edit`;
      edit.addEventListener("click", () => startEdit(message));
      item.append(edit);
    }
    return item;
  }

  function renderMessages(messages) {
    const chat = $("chat");
    const focusedKey = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.key : undefined;
    const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    const keep = new Set();
    let previous = null;
    // Only changed messages are replaced, so screen readers announce new and edited ones, not all.
    for (const message of messages) {
      const signature = JSON.stringify(message);
      const known = state.items.get(message.message_id);
      let item = known && known.signature === signature ? known.item : null;
      if (!item) {
        item = bubble(message);
        if (known) known.item.replaceWith(item);
        state.items.set(message.message_id, { signature, item });
      }
      if (item.previousElementSibling !== previous || !item.isConnected) {
        if (previous) previous.after(item); else chat.prepend(item);
      }
      keep.add(message.message_id);
      previous = item;
    }
    for (const [id, known] of state.items) {
      if (!keep.has(id)) {
        known.item.remove();
        state.items.delete(id);
      }
    }
    if (focusedKey) {
      const again = chat.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`);
      if (again) again.focus();
    }
    if (nearBottom) chat.scrollTop = chat.scrollHeight;
  }

  function renderKeyboard(rows) {
    const area = $("reply-keyboard");
    area.replaceChildren();
    area.hidden = !rows || rows.length === 0;
    for (const row of rows || []) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        const element = document.createElement("button");
        element.type = "button";
        element.textContent = button.text;
        element.addEventListener("click", () => attempt(() => {
          if (button.request_contact) return act("contact", {});
          if (button.request_location) return act("location", {});
          return sendText(button.text);
        }));
        line.append(element);
      }
      area.append(line);
    }
  }

  function renderNotice(notices) {
    const latest = notices[notices.length - 1];
    const key = latest ? JSON.stringify(latest) : "";
    if (!latest || key === state.seenNotice) return;
    state.seenNotice = key;
    $("notice-text").textContent = latest.show_alert ? `Alert: ${latest.text}` : latest.text;
    $("notice").classList.toggle("alert", latest.show_alert);
    $("notice").hidden = false;
  }

  async function refresh() {
    if (!state.seat) return;
    const since = state.version === null ? "" : `?since=${state.version}`;
    const chat = await api(`/chats/${state.seat.chatId}${since}`);
    state.version = chat.version;
    if (!chat.changed) return;
    renderMessages(chat.messages);
    renderKeyboard(chat.reply_keyboard);
    renderNotice(chat.notices);
    $("text").placeholder = chat.placeholder || "Message";
    $("typing").textContent = chat.action ? `@${state.bot.username} is ${chat.action.replace(/_/g, " ")}…` : "";
    state.blocked = chat.blocked;
    $("block-toggle").textContent = chat.blocked ? "Unblock the bot" : "Block the bot";
    $("send").disabled = chat.blocked;
    if (chat.blocked) say("You blocked the bot. Unblock it to write again.");
  }

  // -- actions -------------------------------------------------------------------------------

  async function act(action, body) {
    if (!state.seat) throw new Error("Create or choose a patient first.");
    const result = await api(`/users/${state.seat.userId}/${action}`, body);
    say("");
    await refresh();
    return result;
  }

  function inGroup() {
    return state.seat && state.seat.chatId !== state.seat.userId ? { chat_id: state.seat.chatId } : {};
  }

  async function sendText(text) {
    if (!text.trim()) return;
    if (state.editing) {
      await act("edit", { message_id: state.editing, text });
      cancelEdit();
    } else {
      await act("send", { text, ...inGroup() });
    }
  }

  async function press(messageId, data) {
    await act("press", { message_id: messageId, data, ...inGroup() });
  }

  function startEdit(message) {
    state.editing = message.message_id;
    $("editing").hidden = false;
    $("text").value = message.text;
    $("text").focus();
  }

  function cancelEdit() {
    state.editing = null;
    $("editing").hidden = true;
  }

  function tokenFrom(input) {
    const value = input.trim();
    if (TOKEN.test(value)) return value;
    let url;
    try {
      url = new URL(value);
    } catch {
      throw new Error("That is neither an invite link nor a token (1-64 letters, digits, _ or -).");
    }
    let bot = "";
    if (url.protocol === "tg:") bot = url.searchParams.get("domain") || "";
    else if (["t.me", "telegram.me"].includes(url.hostname)) bot = url.pathname.replace(/^\//, "").split("/")[0];
    else throw new Error("Invite links look like https://t.me/<bot>?start=TOKEN.");
    if (bot.toLowerCase() !== state.bot.username.toLowerCase()) {
      throw new Error(`That link is for @${bot}, not for @${state.bot.username}.`);
    }
    const token = url.searchParams.get("start") || "";
    if (!TOKEN.test(token)) throw new Error("The link has no valid start token.");
    return token;
  }

  // -- wiring --------------------------------------------------------------------------------

  function wire() {
    $("who").addEventListener("change", (event) => choose(parseSeat(event.target.value)));
    $("new-form").addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(async () => {
        const user = await api("/users", {
          first_name: $("first-name").value, last_name: $("last-name").value, username: $("username").value,
        });
        event.target.reset();
        $("new-patient").open = false;
        await loadPeople(`u:${user.id}`);
        say(`${user.first_name} has a phone now. Paste their invite to start.`);
      });
    });
    $("invite-form").addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(async () => {
        await act("start", { token: tokenFrom($("invite-link").value) });
        $("invite-link").value = "";
      });
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("text").value;
      attempt(async () => {
        await sendText(text);
        $("text").value = "";
      });
    });
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
      if (event.key === "Escape" && state.editing) cancelEdit();
    });
    $("cancel-edit").addEventListener("click", cancelEdit);
    $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
    $("block-toggle").addEventListener("click", () => attempt(() => act(state.blocked ? "unblock" : "block", {})));
    for (const button of document.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => attempt(() => act(button.dataset.action, {})));
    }
    for (const button of document.querySelectorAll("[data-step]")) {
      button.addEventListener("click", () => attempt(async () => {
        $("clock-status").textContent = "Moving the clock…";
        const result = await api("/clock", { step: button.dataset.step });
        $("clock-status").textContent = result.text;
        await refresh();
      }));
    }
  }

  async function poll() {
    try {
      state.ticks += 1;
      // People may be added by tests or scripts too; look again every few seconds.
      if (state.ticks % 3 === 0) await loadPeople("");
      await refresh();
    } catch (error) {
      say(`Lost contact with the emulator: ${error.message}`, true);
    }
    window.setTimeout(poll, 1000);
  }

  wire();
  attempt(async () => {
    await loadPeople("");
    poll();
  });
})();
