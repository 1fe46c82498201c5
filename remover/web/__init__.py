"""The site: pages, the pages' JSON API, downloads, WebSocket progress and visitor limits.

An upload enters at ``page_api.create_job``; the job it makes is run by remover.processing;
its progress comes back through ``consumers``; its files leave through ``downloads`` and
``renders``. Everything here answers a browser."""
