"""The web router alone, served while the staff API app (api/app.py) is not there yet."""

from fastapi import FastAPI

from api import web

app = FastAPI()
app.include_router(web.router)
