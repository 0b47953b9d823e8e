"""placeholder"""


class ImportRefused(Exception):
    pass


def import_odm(path):
    raise NotImplementedError
