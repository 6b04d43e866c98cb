"""The Teams app package: manifest, translation, icons; `wegwijzer manifest` builds it."""
