"""The sample app's compositions: stacks only compose stable_fargate constructs."""
