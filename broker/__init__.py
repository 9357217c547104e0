"""The broker part: an embedded amqtt broker (the zero-install default) and Mosquitto configs."""
