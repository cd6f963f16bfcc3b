"""Small, documented models of AWS behaviour that a synthesized template alone cannot show.

Each module cites the AWS documentation it follows and has its own tests beside it
(``test_<module>.py``). They are pure Python: no account, no network.

- ``intrinsics``: resolve CloudFormation values (Ref, Fn::GetAtt, Fn::Sub, ...) to strings.
- ``iam_policy``: evaluate one resource-based policy for one request.
- ``ecr_lifecycle``: which images an ECR lifecycle policy expires, once or over a push history.
"""
