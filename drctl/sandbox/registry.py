"""The registry of emulated services: adding one is its package under ``providers/``, one line here and its
estate section among ``Estate``'s bases (``estate.py``); ``tests/sandbox/test_providers.py`` fails without either.

``World`` builds a store per provider, the ARM router serves their routes, the admin snapshot merges their
sections and ``estate_from_playbook`` lets each seed its part, all in this order.
"""

from __future__ import annotations

from drctl.sandbox.providers.base import Provider
from drctl.sandbox.providers.cdn.provider import PROVIDER as CDN
from drctl.sandbox.providers.compute.provider import PROVIDER as COMPUTE
from drctl.sandbox.providers.containerservice.provider import PROVIDER as CONTAINERSERVICE
from drctl.sandbox.providers.dns.provider import PROVIDER as DNS
from drctl.sandbox.providers.resources.provider import PROVIDER as RESOURCES
from drctl.sandbox.providers.sql.provider import PROVIDER as SQL
from drctl.sandbox.providers.storage.provider import PROVIDER as STORAGE
from drctl.sandbox.providers.trafficmanager.provider import PROVIDER as TRAFFICMANAGER
from drctl.sandbox.providers.web.provider import PROVIDER as WEB

PROVIDERS: tuple[Provider, ...] = (RESOURCES, SQL, DNS, WEB, COMPUTE, STORAGE, CONTAINERSERVICE, CDN, TRAFFICMANAGER)
