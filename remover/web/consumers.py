"""WebSocket progress for one job: ``/ws/jobs/<id>/``.

On connect the consumer sends the job's current state at once, so a reloaded page picks
up a running or finished job. Afterwards it sends the state again whenever the worker
says the job changed, with that step's stage and progress (see remover/processing/events.py); within
one status, progress never goes backwards. Only the job's owner gets a connection;
anyone else, and any unknown id, is refused during the handshake, like a 404; so is a
visitor or network opening sockets faster than remover/web/ratelimit.py allows.
If the job is deleted while the socket is open, the socket closes with code 4404.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from remover.processing import events
from remover.processing.jobs import SNAPSHOT_FIELDS, job_state
from remover.web import ratelimit
from remover.web.limits import tier_for
from remover.web.owners import owned_jobs, owner_key

GONE = 4404  # application close code: the job no longer exists


class JobConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.job_id = self.scope["url_route"]["kwargs"]["job_id"]
        self.last_sent: tuple[str, int] | None = None
        try:
            await self.count_connection()
        except ratelimit.RateLimited:
            await self.close()  # refused handshake; the page polls the job's JSON meanwhile
            return
        if await self.current_state() is None:
            await self.close()
            return
        # Join before reading the state we send: a change made in between then arrives
        # as a message after it, never lost between the two.
        self.group = events.group_name(self.job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.job_changed({})

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """Clients have nothing to say; anything they send is ignored."""

    async def job_changed(self, message):
        state = await self.current_state(message.get("snapshot"))
        if state is None:
            await self.close(code=GONE)
            return
        # A message published just before the snapshot read at connect can arrive after
        # it; drop it rather than move the bar back.
        if self.last_sent and self.last_sent[0] == state["status"] and state["progress"] < self.last_sent[1]:
            return
        self.last_sent = (state["status"], state["progress"])
        await self.send_json(state)

    @database_sync_to_async  # reads the session
    def count_connection(self) -> None:
        session, client = self.scope.get("session"), self.scope.get("client")
        ratelimit.hit(ratelimit.SOCKET, session and owner_key(session), client[0] if client else None)

    @database_sync_to_async
    def current_state(self, snapshot: dict | None = None) -> dict | None:
        """The job as JSON for this visitor, with ``snapshot`` (a step's fields) laid over it."""
        user, session = self.scope.get("user"), self.scope.get("session")
        if session is None:
            return None
        job = owned_jobs(user, session).filter(pk=self.job_id).first()
        if job is None:
            return None
        for name in SNAPSHOT_FIELDS:
            if snapshot and name in snapshot:
                setattr(job, name, snapshot[name])
        return job_state(job, tier_for(user))
