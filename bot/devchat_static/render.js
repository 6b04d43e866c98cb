// Draw an Adaptive Card with Microsoft's renderer and Teams' light host config, and say what is wrong.
"use strict";

window.WegwijzerCards = (function () {
  // Teams renders a subset of Markdown in TextBlocks (bold, italics, lists, links), and may turn
  // a bare address (https://...) into a link: linkify shows where it would.
  const markdown = window.markdownit({ html: false, linkify: true, breaks: true });
  AdaptiveCards.AdaptiveCard.onProcessMarkdown = function (text, result) {
    result.outputHtml = markdown.render(text);
    result.didProcess = true;
  };
  let hostConfig = null;

  async function load() {
    const response = await fetch("/dev/chat/static/vendor/teams-light-hostconfig.json");
    hostConfig = new AdaptiveCards.HostConfig(await response.json());
  }

  // Returns {element, problems}: problems are the renderer's parse and validation events.
  function render(json, onAction) {
    const problems = [];
    const card = new AdaptiveCards.AdaptiveCard();
    card.hostConfig = hostConfig;
    card.onExecuteAction = onAction;
    const context = new AdaptiveCards.SerializationContext();
    // adaptivecards 3.0.6 checks `lang` with a global regex (/^[a-z]{2,3}$/gi) whose lastIndex
    // survives a match, so every second card with a valid `lang` was reported invalid: rewind it.
    const lang = AdaptiveCards.CardElement.langProperty;
    if (lang && lang.regEx) lang.regEx.lastIndex = 0;
    try {
      card.parse(json, context);
    } catch (error) {
      problems.push("parse: " + error);
    }
    for (let i = 0; i < context.eventCount; i++) {
      problems.push("parse: " + context.getEventAt(i).message);
    }
    for (const event of card.validateProperties().validationEvents) {
      problems.push("validation: " + event.message);
    }
    let element = null;
    try {
      element = card.render();
    } catch (error) {
      problems.push("render: " + error);
    }
    if (!element) {
      problems.push("render: the renderer drew nothing");
    } else if (!element.textContent.trim()) {
      problems.push("render: the card shows no text");
    }
    return { element: element, problems: problems };
  }

  function problemBox(problems) {
    const box = document.createElement("div");
    box.className = "render-error";
    box.setAttribute("role", "alert");
    box.textContent = "Deze kaart tekent niet goed: " + problems.join("; ");
    return box;
  }

  return { load: load, render: render, problemBox: problemBox };
})();
