"""Code that runs in AWS, not at synth: Lambda handlers the constructs inline into templates.

They read their configuration from the process environment (Lambda's environment variables),
which is why they live apart from the constructs, which take typed inputs only.
"""
