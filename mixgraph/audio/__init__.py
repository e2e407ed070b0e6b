"""Audio data: decoding PCM sample bytes to float64."""
