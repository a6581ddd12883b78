"""The default base model's special tokens and chat template.

One end token closes both a chat turn and a prose document, so a single `eos_token_id` stops generation
in every engine the same way.
"""

from __future__ import annotations

BOS = "<|begin|>"
END = "<|end|>"
PAD = "<|pad|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, BOS, END, *ROLE_TOKENS)

# Jinja, as `tokenizer.apply_chat_template` and vLLM both render it.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def render_document(text: str) -> str:
    """A prose document as the model sees it in pre-training."""
    return f"{BOS}{text}{END}"
