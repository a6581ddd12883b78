"""The trainer: fine-tunes LoRA adapters with PEFT on sealed dataset versions."""
