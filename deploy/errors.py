"""The deploy tool's one exception: a step failed, with a one-line reason a person can act on."""


class DeployError(Exception):
    """`step` names the pipeline step (find, check, build, ...); str() is the one-line reason."""

    def __init__(self, step, message):
        super().__init__(message)
        self.step = step
