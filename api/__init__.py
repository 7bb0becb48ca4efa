"""Staff API and dashboard (FastAPI), plus the website demo page and chat widget assets."""
