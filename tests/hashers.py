"""A real password hasher that counts how many hashes it made (to check that two paths cost alike)."""

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting_md5"
    made = 0

    def encode(self, password, salt):
        CountingHasher.made += 1
        return super().encode(password, salt)
