"""Request limits the API enforces and its OpenAPI document states: one home for both."""

MAX_BODY_BYTES = 64 * 1024
MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 20
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 4000
ROLES = ("user", "assistant")
