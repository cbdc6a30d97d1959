"""Shapes of the REST mirror, one module per resource: strict request bodies (unknown fields and wrong
types are 400s) and the answers.

Request serializers only check the shape; the rules and their sentences are the services'.
"""
