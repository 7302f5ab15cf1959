# Board definitions: one package per board.
