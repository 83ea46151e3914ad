"""TailLift web app (also the Hugging Face Spaces entry point): `python app.py`."""

import logging
import os

from recsys.config import get_settings
from recsys.ui.app import create_service, launch

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

if __name__ == "__main__":
    settings = get_settings()
    if os.environ.get("SPACE_ID"):  # on HF Spaces the app must listen on all interfaces
        settings = settings.replace(host="0.0.0.0")
        if os.environ.get("OAUTH_CLIENT_ID"):  # the Space has `hf_oauth: true`: offer "Sign in with Hugging Face"
            settings = settings.replace(hf_oauth=True)
    launch(create_service(settings))
