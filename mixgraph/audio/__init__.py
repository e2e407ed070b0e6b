"""Audio files: reading and decoding sources, probing headers, writing outputs, resampling, IR loading,
sample fingerprints and provenance tags. The only package that imports soundfile and soxr."""
