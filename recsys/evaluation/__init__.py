"""Evaluation: ranking metrics, dataset suites, stored reports. Every change to TailLift is judged here."""
