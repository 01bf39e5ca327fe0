"""A WeChat simulator for tests, demos and benchmarks (``fazhi wechat-sim``); never imported by
the serving path."""
from api.wechat.testing.simulator import WeChatSimulator, parse_reply_fields, run_simulator, simulator_for
from api.wechat.testing.state import Attempt, Delivery, Fault, SimState, sign

__all__ = ["Attempt", "Delivery", "Fault", "SimState", "WeChatSimulator", "parse_reply_fields",
           "run_simulator", "sign", "simulator_for"]
