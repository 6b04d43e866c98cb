// The dev chat page: plays Teams for the bot. It posts Teams-shaped activities to /api/messages
// with a serviceUrl pointing at the bot's own loopback Bot Connector, and shows what that
// connector received (replies, proactive messages, card updates) in the right conversation.
"use strict";

(async function () {
  const PEOPLE = {
    manager: { name: "Sanne de Vries", role: "Teamleider", where: "Persoonlijke chat" },
    director: { name: "Karim El Amrani", role: "Directeur", where: "Persoonlijke chat" },
    trekker: { name: "Noor Jansen", role: "Trekker actieplan", where: "Persoonlijke chat" },
    bureau: { name: "Eva Bakker", role: "Bureau I&D", where: "Team Bureau I&D, kanaal Algemeen" },
  };
  const BOT_NAME = "Wegwijzer I&D";
  const CARD = "application/vnd.microsoft.card.adaptive";
  const state = {
    config: null,
    current: null,
    seen: 0,
    conversations: new Map(), // conversation id (without ;messageid=) -> {key, transcript}
    installed: new Set(),
  };
  // For tests and the curious: every card that did not render cleanly.
  window.devchat = { ready: false, errors: [] };

  const $ = (id) => document.getElementById(id);

  function banner(text) {
    $("banner").textContent = text;
    $("banner").hidden = !text;
  }

  function baseConversation(id) {
    return String(id || "").split(";messageid=")[0];
  }

  function newId() {
    return "dev-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  // --- What Teams would post to the bot ---------------------------------------------------
  // `where` is the conversation id when it is not the persona's own (a thread in a channel).
  function activity(persona, fields, where) {
    const tenant = { id: state.config.tenantId };
    const conversation = {
      id: where || persona.conversation_id,
      conversationType: persona.conversation_type,
      tenantId: state.config.tenantId,
    };
    const channelData = { tenant: tenant };
    if (persona.conversation_type === "channel") {
      conversation.isGroup = true;
      channelData.team = { id: persona.team_id };
      channelData.channel = { id: persona.channel_id };
      channelData.teamsTeamId = persona.team_id;
      channelData.teamsChannelId = persona.channel_id;
    }
    return Object.assign(
      {
        type: "message",
        id: newId(),
        timestamp: new Date().toISOString(),
        localTimestamp: new Date().toISOString(),
        channelId: "msteams",
        serviceUrl: location.origin + state.config.connectorPath,
        from: { id: persona.user_id, aadObjectId: persona.aad_object_id, name: PEOPLE[persona.key].name },
        recipient: { id: state.config.botId, name: BOT_NAME },
        conversation: conversation,
        channelData: channelData,
        locale: $("locale").value,
      },
      fields
    );
  }

  function install(persona) {
    const fields = { type: "conversationUpdate", membersAdded: [{ id: state.config.botId }] };
    if (persona.conversation_type === "channel") {
      fields.channelData = Object.assign(activity(persona, {}).channelData, { eventType: "teamMemberAdded" });
    }
    return post(persona, activity(persona, fields));
  }

  function says(persona, text) {
    const fields = { id: newId(), text: text, textFormat: "plain" };
    let where = null;
    if (persona.conversation_type === "channel") {
      // A new post in a channel starts a thread: Teams names the conversation after the post.
      where = persona.conversation_id + ";messageid=" + fields.id;
      // In a channel people reach the bot by @mentioning it, as in Teams.
      const mention = "<at>" + BOT_NAME + "</at>";
      fields.text = mention + " " + text;
      fields.entities = [
        { type: "mention", text: mention, mentioned: { id: state.config.botId, name: BOT_NAME } },
      ];
    }
    return post(persona, activity(persona, fields, where));
  }

  async function post(persona, body) {
    let response;
    try {
      response = await fetch("/api/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      banner("De bot is niet bereikbaar: " + error);
      return null;
    }
    if (response.status === 401) {
      banner("De bot vraagt om een Teams-token. Zet APP_ID leeg voor de dev chat (alleen in development).");
    } else if (response.status >= 400) {
      banner("De bot antwoordde met HTTP " + response.status + ".");
    } else {
      banner("");
    }
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  // --- Pressing buttons ---------------------------------------------------------------------
  // A press is sent in the conversation of the message whose card was pressed (its thread).
  function onAction(persona, message, slot) {
    const messageId = message.id;
    const where = message.conversation && message.conversation.id;
    return async function (action) {
      if (action instanceof AdaptiveCards.OpenUrlAction) {
        window.open(action.url, "_blank", "noopener");
        return;
      }
      const data = action.data && typeof action.data === "object" ? Object.assign({}, action.data) : {};
      if (action instanceof AdaptiveCards.ExecuteAction) {
        const answer = await post(
          persona,
          activity(persona, {
            type: "invoke",
            name: "adaptiveCard/action",
            replyToId: messageId,
            value: {
              action: { type: "Action.Execute", id: action.id, verb: action.verb, data: data },
              trigger: "manual",
            },
          }, where)
        );
        showInvokeAnswer(answer, persona, message, slot);
        return;
      }
      if (action instanceof AdaptiveCards.SubmitAction) {
        const teams = data.msteams;
        delete data.msteams;
        const fields = { replyToId: messageId };
        if (teams && teams.type === "messageBack") {
          fields.text = teams.text;
          fields.value = teams.value !== undefined ? teams.value : data;
          if (teams.displayText) addUserMessage(persona, teams.displayText);
        } else if (teams && teams.type === "imBack") {
          fields.text = String(teams.value);
          addUserMessage(persona, fields.text);
        } else {
          fields.value = data;
        }
        await post(persona, activity(persona, fields, where));
      }
    };
  }

  // An Action.Execute answer replaces the card in place, or shows its message under it.
  function showInvokeAnswer(answer, persona, message, slot) {
    if (!answer) return;
    const body = answer.body || {};
    if (body.type === CARD && body.value) {
      slot.replaceChildren(cardElement(persona, message, body.value, slot));
    } else if (body.type === "application/vnd.microsoft.activity.message" && body.value) {
      slot.appendChild(note(String(body.value)));
    } else if (answer.status >= 400 || (body.statusCode && body.statusCode >= 400)) {
      slot.appendChild(note("Er ging iets mis (" + (body.statusCode || answer.status) + ")."));
    }
  }

  function note(text) {
    const p = document.createElement("p");
    p.className = "invoke-note";
    p.textContent = text;
    return p;
  }

  // --- Showing what the bot sent ------------------------------------------------------------
  function cardElement(persona, message, json, slot) {
    const drawn = WegwijzerCards.render(json, onAction(persona, message, slot));
    const wrapper = document.createElement("div");
    wrapper.className = "card teams-card";
    if (drawn.problems.length) {
      window.devchat.errors.push({ conversation: persona.conversation_id, message: message.id, problems: drawn.problems });
      wrapper.appendChild(WegwijzerCards.problemBox(drawn.problems));
    }
    if (drawn.element) wrapper.appendChild(drawn.element);
    return wrapper;
  }

  function messageContent(persona, message) {
    const parts = [];
    if (message.text) {
      const text = document.createElement("div");
      text.className = "text";
      // Teams shows a backslash-escaped character (typed text, content.templates.literal) as itself.
      text.textContent = message.text.replace(/\\([!-\/:-@\[-`{-~])/g, "$1");
      parts.push(text);
    }
    for (const attachment of message.attachments || []) {
      const slot = document.createElement("div");
      slot.className = "slot";
      if (attachment.contentType === CARD) {
        slot.appendChild(cardElement(persona, message, attachment.content, slot));
      } else {
        slot.appendChild(note("(bijlage " + attachment.contentType + ")"));
      }
      parts.push(slot);
    }
    return parts;
  }

  function conversationFor(id) {
    const base = baseConversation(id);
    let entry = state.conversations.get(base);
    if (!entry) {
      // A conversation the page did not start (a created one): give it its own entry.
      const persona = {
        key: "other-" + state.conversations.size,
        conversation_id: base,
        conversation_type: "personal",
        user_id: "29:other",
        aad_object_id: "",
      };
      entry = addConversation(persona, "Ander gesprek", base);
    }
    return entry;
  }

  function receive(sent) {
    const entry = conversationFor(sent.conversation && sent.conversation.id);
    if (sent.type === "typing") {
      if (entry.persona.key === state.current) showTyping();
      return;
    }
    if (sent.type !== "message") return;
    hideTyping();
    const existing = entry.transcript.querySelector('[data-activity-id="' + CSS.escape(sent.id) + '"]');
    const body = existing ? existing.querySelector(".bubble") : document.createElement("div");
    body.replaceChildren(...messageContent(entry.persona, sent));
    if (existing) {
      existing.classList.add("updated");
      return;
    }
    const row = document.createElement("article");
    row.className = "message bot";
    row.dataset.activityId = sent.id;
    const who = document.createElement("div");
    who.className = "who";
    who.textContent = BOT_NAME;
    body.className = "bubble";
    row.append(who, body);
    entry.transcript.appendChild(row);
    row.scrollIntoView({ block: "end" });
  }

  function addUserMessage(persona, text) {
    const entry = state.conversations.get(persona.conversation_id);
    const row = document.createElement("article");
    row.className = "message user";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    row.appendChild(bubble);
    entry.transcript.appendChild(row);
    row.scrollIntoView({ block: "end" });
  }

  let typingTimer = null;
  function showTyping() {
    $("typing").hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 3000);
  }
  function hideTyping() {
    $("typing").hidden = true;
  }

  // --- People and conversations -------------------------------------------------------------
  function addConversation(persona, label, where) {
    const transcript = document.createElement("div");
    transcript.className = "transcript";
    transcript.id = "transcript-" + persona.key;
    transcript.hidden = true;
    $("transcripts").appendChild(transcript);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "person";
    button.id = "person-" + persona.key;
    button.textContent = label;
    button.addEventListener("click", () => select(persona.key));
    $("people").appendChild(button);
    const entry = { persona: persona, transcript: transcript, button: button, label: label, where: where };
    state.conversations.set(persona.conversation_id, entry);
    return entry;
  }

  function entryOf(key) {
    for (const entry of state.conversations.values()) if (entry.persona.key === key) return entry;
    return null;
  }

  async function select(key) {
    const entry = entryOf(key);
    state.current = key;
    for (const other of state.conversations.values()) {
      other.transcript.hidden = other !== entry;
      other.button.setAttribute("aria-current", other === entry ? "true" : "false");
    }
    $("conversation-title").textContent = entry.label;
    $("conversation-where").textContent = entry.where;
    if (entry.persona.key === "bureau" && !state.config.bureauTeamConfigured) {
      banner("BUREAU_TEAM_ID is niet ingesteld: dit kanaal is een oefenkanaal, niet het team van het Bureau.");
    }
    hideTyping();
    // The first time someone opens an empty conversation, they install the app (as in Teams).
    if (!entry.transcript.children.length && !state.installed.has(key) && !key.startsWith("other")) {
      state.installed.add(key);
      await install(entry.persona);
    }
    $("text").focus();
  }

  async function poll(wait) {
    const response = await fetch("/dev/chat/events?after=" + state.seen + "&wait=" + wait);
    const changes = await response.json();
    state.seen = changes.next;
    changes.activities.forEach(receive);
  }

  async function pollForever() {
    for (;;) {
      try {
        await poll(15);
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  // --- Start --------------------------------------------------------------------------------
  state.config = await (await fetch("/dev/chat/config")).json();
  await WegwijzerCards.load();
  for (const persona of state.config.personas) {
    const person = PEOPLE[persona.key];
    addConversation(persona, person.name + " (" + person.role + ")", person.where);
  }
  if (state.config.authEnabled) {
    banner("APP_ID is ingesteld: de bot vraagt om Teams-tokens en de dev chat werkt niet. Zet APP_ID leeg.");
  }
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text || !state.current) return;
    $("text").value = "";
    const persona = entryOf(state.current).persona;
    addUserMessage(persona, text);
    await says(persona, text);
  });
  $("reinstall").addEventListener("click", () => install(entryOf(state.current).persona));
  await poll(0); // what the connector already has: the page shows it again after a reload
  pollForever();
  await select(new URLSearchParams(location.search).get("as") || "manager");
  window.devchat.ready = true;
})();
