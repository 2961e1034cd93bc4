"""The composition root: the one place that knows both edges, to run them in one process.

bot/ and console/ never import each other (an import contract says so). `aftercare run` needs both, so the
`aftercare` command starts here: it hands the bot a factory for the staff console, which the bot serves
beside itself as an opaque web app. Nothing imports this package.
"""
