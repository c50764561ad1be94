"""HTTP API and console (only this package and web/ import FastAPI)."""
