"""The REST platform every app's API shares (docs/api-conventions.md).

One module per concern, mirroring an app's ``api/`` package:

- ``exceptions``, ``errors``: the one error body of every 4xx (and of a 500);
  which database errors are a 409.
- ``parsers``: JSON request bodies, with size, depth and encoding limits.
- ``serializers``: base serializers with strict JSON input types and no unknown
  fields; every app's serializers derive from them.
- ``filters``, ``pagination``: lists.
- ``permissions``, ``throttling``: who may do what, how often.
- ``routers``: the ``<id:...>`` converter and the router every app uses.
- ``views``: viewset bases and the platform's own endpoints (token, API root).
- ``schema``: the OpenAPI documentation of errors.

Settings load ``parsers``, ``pagination``, ``filters``, ``errors`` and
``schema`` by dotted path while DRF's ``views`` and ``generics`` are still
being imported, so those modules (and this package) never import DRF's views,
generics or viewsets; ``views`` and ``routers`` may.
"""
