"""Aftercare's staff console: the web app clinic nurses use to review escalations, enrol patients and follow
each patient's course (FastAPI/Starlette, server-rendered Jinja2, every core action works without
JavaScript). Entry point: `console.app.create_app(settings, engine)`.

Knows flows/ and storage/; must never import bot/ or telegram, and never talks to Telegram: messages to
patients go into the outbox (storage.messages) and the bot delivers them.
"""
