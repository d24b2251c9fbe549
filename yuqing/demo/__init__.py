"""Sample articles and the local demo web that ``yuqing demo`` crawls."""
