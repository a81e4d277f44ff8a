"""The version of the built-in packs: they ship with goalgraph itself."""

PACK_VERSION = "1.0.0"
