"""The core: what to send and how to read the answer, as plans a face drives. No I/O.

A plan is a generator that yields instructions (``pydirectus.core.plans``) and
receives their results: a ``Call`` gets the server's reply
(or has the error raised at the ``yield``). The sync face (``pydirectus.transport``)
and the async face (``pydirectus.aio``) each drive the same plans with their own
sender. Nothing here imports requests, urllib3, asyncio or aiohttp.
"""
