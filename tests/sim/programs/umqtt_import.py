import umqtt.simple

print("umqtt ok", umqtt.simple.MQTTClient.__name__)
