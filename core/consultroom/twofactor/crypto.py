"""Where plugins written before the secret box moved to the infrastructure
(``consultroom.secretbox``) import it from: the same names, kept for them."""

from consultroom.secretbox import ISecretBox, SecretBox, decrypt, encrypt, secret_box

__all__ = ["ISecretBox", "SecretBox", "decrypt", "encrypt", "secret_box"]
