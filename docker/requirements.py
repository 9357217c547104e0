"""Print the Python packages the image needs, one per line, from pyproject.toml (its dependencies and its
`test` extra), so that the image's pip install layer depends on pyproject.toml alone and stays cached
while the code changes.

Left out: the embedded broker's amqtt (the compose stack runs Mosquitto, and amqtt brings in about
twenty more packages). Added instead: amqtt's `pwdlib[argon2]`, which `python -m broker user add`
(broker/users.py) needs to write the users file; the stack's `secrets` service runs it.

    python docker/requirements.py [pyproject.toml]
"""

import sys
import tomllib

NOT_IN_IMAGE = {"amqtt"}
# What the image needs of amqtt's own dependencies (as amqtt 0.12.1 asks for it).
FROM_AMQTT = ["pwdlib[argon2]>=0.3.0"]


def name_of(requirement):
    for i, c in enumerate(requirement):
        if not (c.isalnum() or c in "-_."):
            return requirement[:i].lower()
    return requirement.lower()


def main(path="pyproject.toml"):
    with open(path, "rb") as f:
        project = tomllib.load(f)["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    for requirement in wanted:
        if name_of(requirement) not in NOT_IN_IMAGE:
            print(requirement)
    for requirement in FROM_AMQTT:
        print(requirement)


if __name__ == "__main__":
    main(*sys.argv[1:])
