"""The residents' service platform (居民端服务): the compound's finances in the open
(经营性收支公示, ``disclosures``), neighbours helping each other and needs matched with
resources (邻里互助, 需求清单/资源清单, ``listings`` and ``matching``).

Each is a definition kind of the pack (``disclosure``, ``listing``), edited in the designer;
the records live in ``engine/residents/models.py``.
"""
