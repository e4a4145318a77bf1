"""Practice by knowledge area, the wrong-answer book (错题本) and 'practise my weak areas'."""
